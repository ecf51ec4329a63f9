"""Routing fixtures: the core fakes plus a fake clock and breaker store, and a worker built over scripted upstreams."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from retouch.jobs.process import WorkerDeps
from retouch.routing.document import BreakerPolicy
from tests.fakes import (
    FakeJobQueue,
    FakeJobRepository,
    FakeObjectStore,
    FakeUrls,
    billing_over,
    no_events,
)
from tests.fakes.routing import (
    FakeBreakerStore,
    FakeClock,
    ScriptedUpstream,
    routing_deps,
)
from tests.fakes.wiring import fetch_share_over

POLICY = BreakerPolicy(window_seconds=60, min_calls=3, failure_rate_percent=50, cool_down_seconds=30,
                       probe_timeout_seconds=120)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def breakers() -> FakeBreakerStore:
    return FakeBreakerStore()


@pytest.fixture
def worker(jobs: FakeJobRepository, store: FakeObjectStore, urls: FakeUrls, queue: FakeJobQueue,
           clock: FakeClock, breakers: FakeBreakerStore) -> Callable[..., WorkerDeps]:
    """A worker whose every model is routed to `upstreams` in order, sharing the breaker store and clock."""

    def build(*upstreams: ScriptedUpstream, max_attempts: int = 4) -> WorkerDeps:
        return WorkerDeps(jobs=jobs, store=store,
                          routing=routing_deps(upstreams, jobs.record_attempts, breaker_store=breakers,
                                               policy=POLICY, clock=clock),
                          schedule_poll=queue.send_poll, fetch_url=urls, max_attempts=max_attempts,
                          retry_base_seconds=10, lease_seconds=120,
                          announce=no_events, billing=billing_over(jobs), fetch_share=fetch_share_over(queue))

    return build
