"""A delivery's side work (jobs/side_work.py): the message's first visibility change and a served call's breaker count
run beside the job's path, are finished before the delivery returns, and cannot fail the job."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from retouch.jobs.process import WorkerDeps, run_job
from retouch.providers.base import ProviderUnavailable
from retouch.retry import RedeliverLater
from tests.builders import queued_job
from tests.fakes import FakeJobRepository, rendered
from tests.fakes.routing import FakeBreakerStore, ScriptedUpstream

Build = Callable[..., WorkerDeps]


def test_the_served_calls_count_lands_before_the_delivery_returns(jobs: FakeJobRepository, worker: Build,
                                                                   breakers: FakeBreakerStore) -> None:
    # Given a job its only upstream serves
    job = queued_job(jobs)
    # When the delivery returns
    assert run_job(job.job_id, worker(ScriptedUpstream("only", [rendered()]))) == "succeeded"
    # Then the breaker has counted the call
    assert (breakers.items["only"].calls, breakers.items["only"].failures) == (1, 0)


def test_a_breaker_that_cannot_count_a_success_does_not_fail_the_served_job(jobs: FakeJobRepository, worker: Build,
                                                                            breakers: FakeBreakerStore,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a breaker table that refuses writes (DynamoDB throttling, say)
    def refuse(*_args: object, **_kwargs: object) -> tuple[int, int]:
        raise OSError("throttled")

    monkeypatch.setattr(breakers, "count", refuse)
    job = queued_job(jobs)
    # When the upstream serves the job
    outcome = run_job(job.job_id, worker(ScriptedUpstream("only", [rendered()])))
    # Then the job succeeds: its paid answer is not thrown away for a count
    assert outcome == "succeeded"
    done = jobs.get(job.job_id)
    assert done is not None and done.status == "succeeded"


def test_the_messages_first_visibility_change_is_done_when_the_delivery_returns(jobs: FakeJobRepository,
                                                                                worker: Build) -> None:
    # Given a slow ChangeMessageVisibility
    finished = threading.Event()
    seconds: list[int] = []

    def keep_message(hold: int) -> None:
        finished.wait(0.05)
        seconds.append(hold)
        finished.set()

    job = queued_job(jobs)
    deps = worker(ScriptedUpstream("only", [rendered()]))
    # When a delivery runs
    assert run_job(job.job_id, deps, keep_message) == "succeeded"
    # Then the visibility was set to the lease's hold before it returned
    assert finished.is_set() and seconds == [deps.message_hold_seconds]


def test_a_retry_still_finishes_its_side_work_before_the_message_is_delayed(jobs: FakeJobRepository,
                                                                             worker: Build) -> None:
    # Given a failing upstream (the job is released for a retry: the caller then delays the message)
    calls: list[int] = []
    job = queued_job(jobs)
    deps = worker(ScriptedUpstream("only", [ProviderUnavailable("provider_error", "HTTP 503")]))
    # When the delivery raises RedeliverLater
    with pytest.raises(RedeliverLater):
        run_job(job.job_id, deps, calls.append)
    # Then its visibility change was already made: the retry's delay, set after, is the message's last word
    assert calls == [deps.message_hold_seconds]


def test_a_failed_visibility_change_does_not_stop_the_job(jobs: FakeJobRepository, worker: Build) -> None:
    def unreachable(_seconds: int) -> None:
        raise OSError("SQS unreachable")

    job = queued_job(jobs)
    assert run_job(job.job_id, worker(ScriptedUpstream("only", [rendered()])), unreachable) == "succeeded"
