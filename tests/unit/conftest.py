"""Unit tier: no network. pytest-socket refuses every socket but AF_UNIX (a socketpair stands in for a
connection in some tests) and every name lookup; integration and e2e keep loopback.

The in-memory collaborators the jobs, web, files, routing and observability tests share are fixtures here, wired by
tests/fakes/wiring.py the way the handlers wire the real ones; `emitted` reads back the metrics a path printed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest
from aws_lambda_powertools import Logger, Metrics
from pytest_socket import disable_socket, enable_socket

from retouch.jobs.process import WorkerDeps
from retouch.jobs.submit import SubmitDeps
from retouch.observability import metric_names as names
from tests.emf import CurrentStdout, Emitted
from tests.fakes import FakeFileRepository, FakeJobQueue, FakeJobRepository, FakeObjectStore, FakeUrls, ScriptedProvider
from tests.fakes.wiring import LEASE_SECONDS, submit_deps_over, worker_deps_over


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    disable_socket(allow_unix_socket=True)
    yield
    enable_socket()


@pytest.fixture(autouse=True)
def _metrics_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every function has POWERTOOLS_METRICS_NAMESPACE in template.yaml; domain code emitting metrics expects it."""
    from retouch.observability.metric_names import DEFAULT_NAMESPACE

    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", DEFAULT_NAMESPACE)


# -- In-memory collaborators ------------------------------------------------------------------------


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
def urls() -> FakeUrls:
    return FakeUrls()


@pytest.fixture
def submit_deps(jobs: FakeJobRepository, store: FakeObjectStore, queue: FakeJobQueue,
                files: FakeFileRepository) -> SubmitDeps:
    return submit_deps_over(jobs=jobs, store=store, queue=queue, files=files, keys=jobs.keys)


@pytest.fixture
def worker_deps(jobs: FakeJobRepository, store: FakeObjectStore, urls: FakeUrls,
                queue: FakeJobQueue) -> Callable[..., WorkerDeps]:
    """WorkerDeps around a given provider; max_attempts/retry_base/lease overridable per test."""

    def build(provider: ScriptedProvider, *, max_attempts: int = 4, retry_base_seconds: float = 10,
              lease_seconds: int = LEASE_SECONDS) -> WorkerDeps:
        return worker_deps_over(jobs=jobs, store=store, urls=urls, queue=queue, provider=provider,
                                max_attempts=max_attempts, retry_base_seconds=retry_base_seconds,
                                lease_seconds=lease_seconds)

    return build


# -- Metrics -----------------------------------------------------------------------------------------


@pytest.fixture
def emitted(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], Emitted]]:
    """Flushes the invocation's shared set as the handlers' @metrics.log_metrics does, then reads what was printed
    (the EMF lines and the JSON log lines)."""
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", names.DEFAULT_NAMESPACE)
    shared = Metrics(namespace=names.DEFAULT_NAMESPACE, service=names.SERVICE)  # as a handler's, with its environment
    shared.clear_metrics()
    capsys.readouterr()
    handler = Logger().registered_handler  # the functions' one log handler, bound to stdout when it was created
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(CurrentStdout())

    def read() -> Emitted:
        if shared.metric_set:
            shared.flush_metrics()
        result = Emitted(capsys.readouterr().out)
        assert result.names <= names.ALL_METRICS, result.names - names.ALL_METRICS
        return result

    yield read
    handler.setStream(previous)
