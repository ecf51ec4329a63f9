"""The per-upstream circuit breaker, shared by every worker through the table (see data/breakers.py).

closed: calls go through and are counted per window; when at least `min_calls` were made in the window and
`failure_rate_percent` of them failed, one worker trips it open (a conditional write: exactly one wins).
open: calls are skipped until `open_until`; then one worker takes the probe (a conditional write), the others keep
skipping. half-open is that probe: its success closes the breaker (counts start afresh), its failure opens it for
another cool-down. The probe slot is a lease: the probe's own request timeout plus `PROBE_LEASE_MARGIN_SECONDS`
(never more than the policy's `probe_timeout_seconds`), so a probe whose worker died or was killed frees the upstream
within minutes, not a whole cool-down; a probe that overran its lease and reports late does no harm (close and
reopen are plain writes: the later one stands). A probe that ended in an error telling nothing about the upstream
(`ok=None`) hands the slot back at once, without closing or reopening.

What counts. Only the upstream's health: a call is a failure (`ok=False`) when the upstream is down: 5xx, no
connection, a timeout, an unusable answer (the caller classifies: jobs/upstream_calls.py). An answer is not a failure
even when it is a no: a refusal, a 429 (rate limiting is the upstream telling us to slow down, per our key: the job
falls through to the next upstream and is retried after `retry_after`; tripping the breaker would shut it for every
tenant for a cool-down instead), an asynchronous upstream's job that ended "failed" (its status endpoint answered:
the job failed, not the upstream). An error that says nothing either way (`ok=None`, a bug) is not counted at all.

Whose failures. A window counts each account's failures apart (`failures` maps account -> failures, atomic ADDs on
one item, see data/breakers.py), and the rate is taken over the failures *counted*, where no account counts for
more than all the others together: counted = min(total, 2 x (total - the top account's)). So one account alone
never trips it (counted = 0: its bad inputs, its huge images, its retries), and one account cannot be most of a trip;
a real outage, failing every account's calls, trips it as before. (A deployment with a single account therefore has
no breaker: its one tenant is the only one a trip would shield, and its failures reach it either way.)

Reads are cached per warm environment (`CircuitBreaker.cache_seconds`): a closed breaker is read again only after
that long, an open one only once its cool-down is over; a half-open breaker is never cached (its probe is a
conditional write). What this environment writes itself (a trip, a probe's close or reopen) updates its cache at once;
a count that finds the failure rate past the threshold drops the cached state. So a breaker tripped by another
environment is honoured here within `cache_seconds`: a few more calls may reach a failing upstream, each counted as
before; no state change is ever decided on a cached read.
"""

from __future__ import annotations

import math
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


@dataclass(frozen=True)
class WindowCount:
    """A window's calls and its failures per account."""

    calls: int
    failures: Mapping[str, int]

    @property
    def total_failures(self) -> int:
        return sum(self.failures.values())

    @property
    def counted_failures(self) -> int:
        """The failures the rate is taken over: no account counts for more than all the others together."""
        total = self.total_failures
        top = max(self.failures.values(), default=0)
        return min(total, 2 * (total - top))


class BreakerStore(Protocol):
    """Atomic operations on one upstream's breaker item; every change is conditional or an atomic counter."""

    def read(self, upstream: str) -> BreakerState | None: ...

    def count(self, upstream: str, *, failed: bool, account: str, now: int, window_seconds: int) -> WindowCount:
        """Add one call (and, if `failed`, one failure of `account`) to the current window, starting a new window
        when the current one is older than `window_seconds`; the window's counts after the addition."""
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

    def release_probe(self, upstream: str) -> None:
        """The probe told nothing (`ok=None`): still open, and the next worker may probe at once."""
        ...


# How long a closed breaker's read serves this environment's calls before it is read again.
STATE_CACHE_SECONDS = 5.0
# The probe's lease beyond its own request timeout (its answer's images are read within the same worker, and the
# worker records the outcome): after that, another worker may probe.
PROBE_LEASE_MARGIN_SECONDS = 30


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
    Built once per environment: its read cache (see the module's docstring) lives as long as it does.
    `call_timeout_seconds`: one upstream request's timeout (the probe's lease is that plus a margin); None: the
    policy's `probe_timeout_seconds` alone."""

    store: BreakerStore
    policy: BreakerPolicy
    clock: Callable[[], float] = time.time
    overrides: Mapping[str, BreakerPolicy] = field(default_factory=dict)
    cache_seconds: float = STATE_CACHE_SECONDS
    call_timeout_seconds: float | None = None
    _cache: _StateCache = field(default_factory=_StateCache, compare=False, repr=False)

    def _now(self) -> int:
        return int(self.clock())

    def policy_for(self, upstream: str) -> BreakerPolicy:
        return self.overrides.get(upstream, self.policy)

    def probe_lease_seconds(self, upstream: str) -> int:
        """How long a probe holds the half-open slot before another worker may take it."""
        ceiling = self.policy_for(upstream).probe_timeout_seconds
        if self.call_timeout_seconds is None:
            return ceiling
        return max(1, min(ceiling, math.ceil(self.call_timeout_seconds) + PROBE_LEASE_MARGIN_SECONDS))

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
        if self.store.take_probe(upstream, now=now, probe_until=now + self.probe_lease_seconds(upstream)):
            logger.info("circuit half-open: probing upstream", extra={"upstream": upstream})
            return "probe"
        return "skip"

    def record(self, upstream: str, admission: Admission, *, ok: bool | None, account: str) -> None:
        """The outcome of a call `admit` let through, made for `account`. `ok`: True, the upstream answered (a
        refusal, a 429, a failed job count: it is up); False, it is down (5xx, unreachable, timed out); None, the
        call told nothing about it (not counted; a probe hands its slot back)."""
        now = self._now()
        policy = self.policy_for(upstream)
        if ok is None:
            if admission == "probe":
                self.store.release_probe(upstream)
                logger.info("circuit probe inconclusive: slot released", extra={"upstream": upstream})
            return
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
        window = self.store.count(upstream, failed=not ok, account=account, now=now,
                                  window_seconds=policy.window_seconds)
        calls, failures = window.calls, window.counted_failures
        if ok or calls < policy.min_calls or failures * 100 < policy.failure_rate_percent * calls:
            return
        self._cache.drop(upstream)  # tripped here or elsewhere: the next admit reads the table
        if self.store.trip(upstream, open_until=now + policy.cool_down_seconds):
            self._opened(upstream, now + policy.cool_down_seconds)
            logger.warning("circuit opened: upstream failing", extra={
                "upstream": upstream, "calls": calls, "failures": failures,
                "failing_accounts": len(window.failures),
                "cool_down_seconds": policy.cool_down_seconds})

    def _opened(self, upstream: str, open_until: int) -> None:
        """This environment opened the breaker: it skips the upstream until `open_until` without reading."""
        self._cache.put(upstream, BreakerState(upstream=upstream, state="open", window_start=0, calls=0, failures=0,
                                               open_until=open_until), self.clock())
