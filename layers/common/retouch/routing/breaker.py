"""The per-upstream circuit breaker, shared by every worker through the table (see data/breakers.py).

closed: calls go through and are counted per window; when at least `min_calls` were made in the window and
`failure_rate_percent` of them failed, one worker trips it open (a conditional write: exactly one wins).
open: calls are skipped until `open_until`; then one worker takes the probe (a conditional write), the others keep
skipping. half-open is that probe: its success closes the breaker (counts start afresh), its failure opens it for
another cool-down. A probe whose worker died frees itself after `probe_timeout_seconds`.

Reads are cached per warm environment (`CircuitBreaker.cache_seconds`): a closed breaker is read again only after
that long, an open one only once its cool-down is over; a half-open breaker is never cached (its probe is a
conditional write). What this environment writes itself (a trip, a probe's close or reopen) updates its cache at once;
a count that finds the failure rate past the threshold drops the cached state. So a breaker tripped by another
environment is honoured here within `cache_seconds`: a few more calls may reach a failing upstream, each counted as
before; no state change is ever decided on a cached read.
"""

from __future__ import annotations

import threading
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


# How long a closed breaker's read serves this environment's calls before it is read again.
STATE_CACHE_SECONDS = 5.0


class _StateCache:
    """The breaker states this environment read or wrote last, with when (thread-safe: a worker may run a batch's
    jobs on threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, tuple[BreakerState | None, float]] = {}

    def get(self, upstream: str, now: float, max_age: float) -> tuple[bool, BreakerState | None]:
        """(found, state): found when a state no older than `max_age` is cached that still holds at `now` (closed,
        or open before its `open_until`); a half-open breaker is never served from here."""
        with self._lock:
            entry = self._states.get(upstream)
        if entry is None:
            return False, None
        state, at = entry
        if now - at >= max_age or now < at:
            return False, None
        if state is not None and state.phase(int(now)) == "half_open":
            return False, None
        return True, state

    def put(self, upstream: str, state: BreakerState | None, now: float) -> None:
        with self._lock:
            self._states[upstream] = (state, now)

    def drop(self, upstream: str) -> None:
        with self._lock:
            self._states.pop(upstream, None)


@dataclass(frozen=True)
class CircuitBreaker:
    """`policy` for every upstream but those `overrides` names (the routing entries with a policy of their own).
    Built once per environment: its read cache (see the module's docstring) lives as long as it does."""

    store: BreakerStore
    policy: BreakerPolicy
    clock: Callable[[], float] = time.time
    overrides: Mapping[str, BreakerPolicy] = field(default_factory=dict)
    cache_seconds: float = STATE_CACHE_SECONDS
    _cache: _StateCache = field(default_factory=_StateCache, compare=False, repr=False)

    def _now(self) -> int:
        return int(self.clock())

    def policy_for(self, upstream: str) -> BreakerPolicy:
        return self.overrides.get(upstream, self.policy)

    def _state(self, upstream: str) -> BreakerState | None:
        """The breaker's state: this environment's cached copy while it is fresh and still holds, else read."""
        now = self.clock()
        found, state = self._cache.get(upstream, now, self.cache_seconds)
        if found:
            return state
        state = self.store.read(upstream)
        self._cache.put(upstream, state, now)
        return state

    def admit(self, upstream: str) -> Admission:
        now = self._now()
        state = self._state(upstream)
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
                self._cache.put(upstream, BreakerState(upstream=upstream, state="closed", window_start=now, calls=0,
                                                       failures=0), self.clock())
                logger.info("circuit closed: upstream answered its probe", extra={"upstream": upstream})
            else:
                self.store.reopen(upstream, open_until=now + policy.cool_down_seconds)
                self._opened(upstream, now + policy.cool_down_seconds)
                logger.warning("circuit stays open: probe failed", extra={"upstream": upstream})
            return
        if admission != "call":
            return
        calls, failures = self.store.count(upstream, failed=not ok, now=now, window_seconds=policy.window_seconds)
        if ok or calls < policy.min_calls or failures * 100 < policy.failure_rate_percent * calls:
            return
        self._cache.drop(upstream)  # tripped here or elsewhere: the next admit reads the table
        if self.store.trip(upstream, open_until=now + policy.cool_down_seconds):
            self._opened(upstream, now + policy.cool_down_seconds)
            logger.warning("circuit opened: upstream failing", extra={
                "upstream": upstream, "calls": calls, "failures": failures,
                "cool_down_seconds": policy.cool_down_seconds})

    def _opened(self, upstream: str, open_until: int) -> None:
        """This environment opened the breaker: it skips the upstream until `open_until` without reading."""
        self._cache.put(upstream, BreakerState(upstream=upstream, state="open", window_start=0, calls=0, failures=0,
                                               open_until=open_until), self.clock())
