"""The per-upstream circuit breaker, shared by every worker through the table (see data/breakers.py).

closed: calls go through and are counted per window; when at least `min_calls` were made in the window and
`failure_rate_percent` of them failed, one worker trips it open (a conditional write: exactly one wins).
open: calls are skipped until `open_until`; then one worker takes the probe (a conditional write), the others keep
skipping. half-open is that probe: its success closes the breaker (counts start afresh), its failure opens it for
another cool-down. A probe whose worker died frees itself after `probe_timeout_seconds`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from aws_lambda_powertools import Logger

from retouch.routing.document import BreakerPolicy

logger = Logger(child=True)

# call: closed, go ahead; probe: half-open, this call decides; skip: open, try the next upstream.
Admission = Literal["call", "probe", "skip"]
BreakerStateName = Literal["closed", "open"]


@dataclass(frozen=True)
class BreakerState:
    upstream: str
    state: BreakerStateName
    window_start: int
    calls: int
    failures: int
    open_until: int | None = None
    probe_until: int | None = None

    def phase(self, now: int) -> Literal["closed", "open", "half_open"]:
        if self.state == "closed":
            return "closed"
        if self.open_until is not None and now < self.open_until:
            return "open"
        return "half_open"


class BreakerStore(Protocol):
    """Atomic operations on one upstream's breaker item; every change is conditional or an atomic counter."""

    def read(self, upstream: str) -> BreakerState | None: ...

    def count(self, upstream: str, *, failed: bool, now: int, window_seconds: int) -> tuple[int, int]:
        """Add one call (and one failure if `failed`) to the current window, starting a new window when the current
        one is older than `window_seconds`; (calls, failures) in the window after the addition."""
        ...

    def trip(self, upstream: str, *, open_until: int) -> bool:
        """closed -> open until `open_until`; False when it was open already (another worker tripped it)."""
        ...

    def take_probe(self, upstream: str, *, now: int, probe_until: int) -> bool:
        """Open past its cool-down and nobody probing (or their probe expired): this worker probes."""
        ...

    def close(self, upstream: str, *, now: int) -> None:
        """The probe succeeded: closed, with a fresh window."""
        ...

    def reopen(self, upstream: str, *, open_until: int) -> None:
        """The probe failed: open for another cool-down."""
        ...


@dataclass(frozen=True)
class CircuitBreaker:
    """`policy` for every upstream but those `overrides` names (the routing entries with a policy of their own)."""

    store: BreakerStore
    policy: BreakerPolicy
    clock: Callable[[], float] = time.time
    overrides: Mapping[str, BreakerPolicy] = field(default_factory=dict)

    def _now(self) -> int:
        return int(self.clock())

    def policy_for(self, upstream: str) -> BreakerPolicy:
        return self.overrides.get(upstream, self.policy)

    def admit(self, upstream: str) -> Admission:
        now = self._now()
        state = self.store.read(upstream)
        if state is None or state.phase(now) == "closed":
            return "call"
        if state.phase(now) == "open":
            return "skip"
        if self.store.take_probe(upstream, now=now, probe_until=now + self.policy_for(upstream).probe_timeout_seconds):
            logger.info("circuit half-open: probing upstream", extra={"upstream": upstream})
            return "probe"
        return "skip"

    def record(self, upstream: str, admission: Admission, *, ok: bool) -> None:
        """The outcome of a call `admit` let through. `ok`: the upstream answered (a refusal counts: it is up)."""
        now = self._now()
        policy = self.policy_for(upstream)
        if admission == "probe":
            if ok:
                self.store.close(upstream, now=now)
                logger.info("circuit closed: upstream answered its probe", extra={"upstream": upstream})
            else:
                self.store.reopen(upstream, open_until=now + policy.cool_down_seconds)
                logger.warning("circuit stays open: probe failed", extra={"upstream": upstream})
            return
        if admission != "call":
            return
        calls, failures = self.store.count(upstream, failed=not ok, now=now, window_seconds=policy.window_seconds)
        if ok or calls < policy.min_calls or failures * 100 < policy.failure_rate_percent * calls:
            return
        if self.store.trip(upstream, open_until=now + policy.cool_down_seconds):
            logger.warning("circuit opened: upstream failing", extra={
                "upstream": upstream, "calls": calls, "failures": failures,
                "cool_down_seconds": policy.cool_down_seconds})
