"""Core unit fixtures: in-memory collaborators, wired the way the handlers wire the real ones."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from retouch.jobs.process import WorkerDeps
from retouch.jobs.submit import SubmitDeps
from retouch.ports import IdempotencyStore
from retouch.routing.document import load_routing
from retouch.routing.support import UpstreamSupport
from tests.fakes import (
    FakeFileRepository,
    FakeJobQueue,
    FakeJobRepository,
    FakeObjectStore,
    FakeUrls,
    ScriptedProvider,
    billing_over,
    no_events,
    no_webhook,
)
from tests.fakes.routing import routing_deps


@pytest.fixture
def jobs() -> FakeJobRepository:
    return FakeJobRepository()


@pytest.fixture
def store() -> FakeObjectStore:
    return FakeObjectStore()


@pytest.fixture
def queue() -> FakeJobQueue:
    return FakeJobQueue()


@pytest.fixture
def files() -> FakeFileRepository:
    return FakeFileRepository()


@pytest.fixture
def submit_deps(jobs: FakeJobRepository, store: FakeObjectStore, queue: FakeJobQueue,
                files: FakeFileRepository) -> SubmitDeps:
    return submit_deps_over(jobs=jobs, store=store, queue=queue, files=files, keys=jobs.keys)


def submit_deps_over(*, jobs: FakeJobRepository, store: FakeObjectStore, queue: FakeJobQueue,
                     files: FakeFileRepository, keys: IdempotencyStore | None = None) -> SubmitDeps:
    """SubmitDeps as the api wires them, over these fakes: billed (FakeLedger over `jobs`), no webhooks."""
    return SubmitDeps(jobs=jobs, store=store, queue=queue, files=files, billing=billing_over(jobs),
                      webhook_for=no_webhook, upstream_support=UpstreamSupport(load_routing("default.json")), keys=keys)


@pytest.fixture
def urls() -> FakeUrls:
    return FakeUrls()


LEASE_SECONDS = 120


@pytest.fixture
def worker_deps(jobs: FakeJobRepository, store: FakeObjectStore, urls: FakeUrls,
                queue: FakeJobQueue) -> Callable[..., WorkerDeps]:
    """WorkerDeps around a given provider; max_attempts/retry_base/lease overridable per test."""

    def build(provider: ScriptedProvider, *, max_attempts: int = 4, retry_base_seconds: float = 10,
              lease_seconds: int = LEASE_SECONDS) -> WorkerDeps:
        return WorkerDeps(jobs=jobs, store=store, routing=routing_deps([provider], jobs.record_attempts),  # type: ignore[arg-type]
                          schedule_poll=queue.send_poll, fetch_url=urls,
                          max_attempts=max_attempts, retry_base_seconds=retry_base_seconds,
                          lease_seconds=lease_seconds, announce=no_events, billing=billing_over(jobs))

    return build
