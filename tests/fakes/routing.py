"""Fakes for routing: the breaker store (the same conditional semantics as data/breakers.py, checked by
tests/integration/core/test_breaker_store.py on moto), scripted upstream adapters (sync and async), a settable
clock, and `routing_deps`, which puts them together the way wiring/worker.py does."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from retouch.jobs.upstream_calls import RoutingDeps, Upstream
from retouch.providers.base import InputImage, ProviderResult
from retouch.providers.upstream import (
    Finished,
    Outcome,
    Pending,
    PollHandle,
    Synchronous,
    check,
)
from retouch.providers.upstream_http import elapsed_ms
from retouch.upstream_registry import UPSTREAMS, Capabilities
from tests.fakes.provider import ScriptedProvider

if TYPE_CHECKING:
    from retouch import ports
from retouch.routing.breaker import BreakerState, CircuitBreaker, WindowCount
from retouch.routing.document import BreakerPolicy


class FakeClock:
    """Epoch seconds that move only when a test (or a fake upstream) says so."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeBreakerStore:
    def __init__(self) -> None:
        self.items: dict[str, BreakerState] = {}
        self.reads = 0  # how many times a breaker read the table (its cache spares most)
        self.account_failures: dict[str, dict[str, int]] = {}  # the current window's failures per account

    def read(self, upstream: str) -> BreakerState | None:
        self.reads += 1
        return self.items.get(upstream)

    def count(self, upstream: str, *, failed: bool, account: str, now: int, window_seconds: int) -> WindowCount:
        state = self.items.get(upstream)
        if state is None or state.window_start <= now - window_seconds:
            state = BreakerState(upstream=upstream, state=state.state if state else "closed", window_start=now,
                                 calls=0, failures=0, open_until=state.open_until if state else None,
                                 probe_until=state.probe_until if state else None)
            self.account_failures[upstream] = {}
        state = replace(state, calls=state.calls + 1, failures=state.failures + int(failed))
        self.items[upstream] = state
        by_account = self.account_failures.setdefault(upstream, {})
        if failed:
            by_account[account] = by_account.get(account, 0) + 1
        return WindowCount(calls=state.calls, failures=dict(by_account))

    def trip(self, upstream: str, *, open_until: int) -> bool:
        state = self.items[upstream]
        if state.state != "closed":
            return False
        self.items[upstream] = replace(state, state="open", open_until=open_until, probe_until=None)
        return True

    def take_probe(self, upstream: str, *, now: int, probe_until: int) -> bool:
        state = self.items.get(upstream)
        if state is None or state.state != "open" or (state.open_until or 0) > now \
                or (state.probe_until is not None and state.probe_until > now):
            return False
        self.items[upstream] = replace(state, probe_until=probe_until)
        return True

    def close(self, upstream: str, *, now: int) -> None:
        self.items[upstream] = BreakerState(upstream=upstream, state="closed", window_start=now, calls=0, failures=0)
        self.account_failures[upstream] = {}

    def reopen(self, upstream: str, *, open_until: int) -> None:
        self.items[upstream] = replace(self.items[upstream], state="open", open_until=open_until, probe_until=None)

    def release_probe(self, upstream: str) -> None:
        state = self.items.get(upstream)
        if state is not None and state.state == "open":
            self.items[upstream] = replace(state, probe_until=None)


ASYNC = Capabilities(upstream="queue", mode="async", inputs="url", mask="alpha", max_images=16, max_n=10,
                     sizes=None, qualities=("low", "medium", "high", "auto"), output_formats=("png", "jpeg", "webp"),
                     reports_cost=True, operations=("edit", "generation"))


@dataclass
class ScriptedUpstream:
    """An upstream adapter answering each submit and poll with the next scripted step: a ProviderResult (finished),
    an int (pending, poll after that many seconds), or an exception. `call_seconds` is how long each call takes on
    `clock` (the model's time, for a synchronous one)."""

    name: str
    steps: list[ProviderResult | int | Exception]
    clock: FakeClock = field(default_factory=FakeClock)
    call_seconds: float = 0.0
    cost_micros: int | None = None
    capabilities: Capabilities = ASYNC
    calls: list[str] = field(default_factory=list)

    def _step(self, kind: str, job_id: str) -> Outcome:
        self.calls.append(kind)
        if not self.steps:
            raise AssertionError(f"{self.name} was called more often than scripted")
        self.clock.advance(self.call_seconds)
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        if isinstance(step, int):
            return Pending(PollHandle(upstream=self.name, upstream_job_id=job_id, status_url=f"https://{self.name}/"
                                      f"{job_id}", result_url=None, submitted_at=self.clock(), poll_after_seconds=step))
        return Finished(result=step, upstream=self.name, upstream_job_id=job_id, cost_micros=self.cost_micros,
                        latency_ms=int(self.call_seconds * 1000))

    def submit(self, *, images: list[InputImage], mask: InputImage | None, options: dict[str, Any]) -> Outcome:
        check(self.capabilities, operation="edit" if images else "generation", images=images, mask=mask,
              options=options)
        return self._step("submit", f"{self.name}-job-{len(self.calls) + 1}")

    def poll(self, handle: PollHandle) -> Outcome:
        return self._step("poll", handle.upstream_job_id)


class ProviderUpstream(Synchronous):
    """A ScriptedProvider (edit/generate answer at once: tests/fakes/provider.py) as an `openai` upstream's adapter:
    what most worker tests route their jobs to."""

    capabilities = UPSTREAMS["openai"].capabilities

    def __init__(self, provider: ScriptedProvider, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._provider = provider
        self._clock = clock

    def submit(self, *, images: list[InputImage], mask: InputImage | None, options: dict[str, Any]) -> Outcome:
        check(self.capabilities, operation="edit" if images else "generation", images=images, mask=mask,
              options=options)
        started = self._clock()
        if images:
            result = self._provider.edit(images=images, mask=mask, options=options)
        else:
            result = self._provider.generate(options=options)
        return Finished(result=result, upstream=self.capabilities.upstream, upstream_job_id=None, cost_micros=None,
                        latency_ms=elapsed_ms(started, self._clock))


def routing_deps(upstreams: Sequence[ScriptedProvider | ScriptedUpstream | Upstream],
                 record_attempts: Callable[..., bool], *, breaker_store: FakeBreakerStore | None = None,
                 policy: BreakerPolicy | None = None, clock: Callable[[], float] | None = None) -> RoutingDeps:
    """Every model routed to `upstreams` in order (a ScriptedProvider is an `openai` entry, as in production)."""
    route = []
    for index, upstream in enumerate(upstreams):
        if isinstance(upstream, Upstream):
            route.append(upstream)
        elif isinstance(upstream, ScriptedUpstream):
            route.append(Upstream(name=upstream.name, adapter=lambda u=upstream: u))
        else:
            adapter = ProviderUpstream(upstream)
            route.append(Upstream(name="openai" if index == 0 else f"openai-{index}", adapter=lambda a=adapter: a))
    breaker_clock = clock or FakeClock()
    return RoutingDeps(
        record_attempts=lambda job_id, token, attempts: record_attempts(job_id, token=token, attempts=attempts),
        breaker=CircuitBreaker(breaker_store or FakeBreakerStore(), policy or BreakerPolicy(), breaker_clock),
        upstreams=lambda _model: route,
        clock=breaker_clock,
    )


if TYPE_CHECKING:  # mypy checks each fake against its port
    _upstream: ports.UpstreamAdapter = ProviderUpstream(ScriptedProvider())
    _scripted: ports.UpstreamAdapter = ScriptedUpstream("queue", [])
