"""How a walk's attempts reach the job: a failed or pending call is written at once (the write checks the claim before
another paid submit); attempts that called nothing, and the call that served the job, ride on the checkpoint of its
outputs; a paid call whose images could not be stored is still written."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from retouch.jobs.process import WorkerDeps, run_job
from retouch.providers.base import ProviderUnavailable
from retouch.retry import RedeliverLater
from retouch.routing.breaker import BreakerState
from tests.builders import queued_job
from tests.fakes import FakeJobRepository, FakeObjectStore, rendered
from tests.fakes.routing import FakeBreakerStore, FakeClock, ScriptedUpstream

Build = Callable[..., WorkerDeps]


def open_circuit(breakers: FakeBreakerStore, clock: FakeClock, upstream: str) -> None:
    now = int(clock())
    breakers.items[upstream] = BreakerState(upstream=upstream, state="open", window_start=now, calls=5, failures=5,
                                            open_until=now + 600)


def attempts(jobs: FakeJobRepository, job_id: str) -> list[tuple[str, str, str | None]]:
    job = jobs.get(job_id)
    assert job is not None
    return [(a.upstream, a.outcome, a.code) for a in job.upstream_attempts]


def test_a_served_job_writes_its_attempts_with_its_outputs_in_one_write(
        jobs: FakeJobRepository, worker: Build, breakers: FakeBreakerStore, clock: FakeClock) -> None:
    # Given a job whose first upstream's circuit is open and whose second serves it
    job = queued_job(jobs)
    open_circuit(breakers, clock, "first")
    first, second = ScriptedUpstream("first", [rendered()]), ScriptedUpstream("second", [rendered()])
    # When it runs
    assert run_job(job.job_id, worker(first, second)) == "succeeded"
    # Then both attempts are on the job, in order, and none was written on its own
    assert attempts(jobs, job.job_id) == [("first", "skipped", "circuit_open"), ("second", "succeeded", None)]
    assert jobs.attempt_writes == 0 and first.calls == []


def test_a_failed_call_is_written_at_once_with_the_skips_before_it(
        jobs: FakeJobRepository, worker: Build, breakers: FakeBreakerStore, clock: FakeClock) -> None:
    # Given a skipped first upstream, a failing second and a third that serves the job
    job = queued_job(jobs)
    open_circuit(breakers, clock, "first")
    failing = ScriptedUpstream("second", [ProviderUnavailable("provider_error", "503")])
    upstreams = (ScriptedUpstream("first", []), failing, ScriptedUpstream("third", [rendered()]))
    # When it runs
    assert run_job(job.job_id, worker(*upstreams)) == "succeeded"
    # Then the failure was written (with the skip) before the third was called, and the success rode on the outputs
    assert jobs.attempt_writes == 1
    assert attempts(jobs, job.job_id) == [("first", "skipped", "circuit_open"),
                                          ("second", "unavailable", "provider_error"), ("third", "succeeded", None)]


def test_a_walk_with_every_circuit_open_still_records_its_skips(
        jobs: FakeJobRepository, worker: Build, breakers: FakeBreakerStore, clock: FakeClock) -> None:
    # Given every upstream's circuit open
    job = queued_job(jobs)
    for name in ("first", "second"):
        open_circuit(breakers, clock, name)
    # When the job runs, it is retried later
    with pytest.raises(RedeliverLater):
        run_job(job.job_id, worker(ScriptedUpstream("first", []), ScriptedUpstream("second", [])))
    # And its skips are on the job, written once
    assert attempts(jobs, job.job_id) == [("first", "skipped", "circuit_open"), ("second", "skipped", "circuit_open")]
    assert jobs.attempt_writes == 1


def test_a_paid_call_whose_images_could_not_be_stored_is_still_recorded(jobs: FakeJobRepository, worker: Build,
                                                                         store: FakeObjectStore,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an upstream that serves the job and a bucket that refuses the images
    job = queued_job(jobs)

    def refuse(*_args: object) -> None:
        raise OSError("S3 unreachable")

    monkeypatch.setattr(store, "put", refuse)
    # When the job runs, it is released for a retry
    with pytest.raises(RedeliverLater):
        run_job(job.job_id, worker(ScriptedUpstream("only", [rendered()])))
    # Then the upstream's paid call is on the job (for the margin report's unserved calls), and nothing produced
    record = jobs.get(job.job_id)
    assert record is not None and record.status == "queued" and record.produced is None
    assert attempts(jobs, job.job_id) == [("only", "succeeded", None)]
