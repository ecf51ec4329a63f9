"""Canceling a job (jobs/cancel) on fakes: only a queued job, once; a worker that later gets its message drops it;
job.canceled is announced; an Idempotency-Key makes a retried cancel a replay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from retouch.errors import IdempotencyKeyReused, JobNotCancelable, JobNotFound
from retouch.jobs.cancel import CancelDeps, cancel_job
from retouch.jobs.idempotency import keyed_request
from retouch.jobs.process import WorkerDeps, run_job
from retouch.jobs.view import find_job
from retouch.models.records import ProducedOutputs
from retouch.models.transitions import JobEnd
from tests.builders import queued_job
from tests.fakes import Announced, FakeJobQueue, FakeJobRepository, ScriptedProvider
from tests.fakes.wiring import cancel_deps_over


@pytest.fixture
def announced() -> Announced:
    return Announced()


@pytest.fixture
def deps(jobs: FakeJobRepository, queue: FakeJobQueue, announced: Announced) -> CancelDeps:
    return cancel_deps_over(jobs=jobs, queue=queue, announce=announced)


def keyed(account_id: str, job_id: str, key: str = "cancel-1") -> Any:
    return keyed_request(key, account_id, "jobs.cancel", {"job_id": job_id}, seconds_left=29)


def test_a_queued_job_is_canceled_at_once_and_job_canceled_is_announced(
        deps: CancelDeps, jobs: FakeJobRepository, announced: Announced) -> None:
    # Given a queued job
    job = queued_job(jobs)

    # When its owner cancels it
    outcome = cancel_job(job.account_id, job.job_id, deps)

    # Then it is canceled, off the sweep index, and its event was announced
    assert outcome.record.status == "canceled" and not outcome.replayed
    assert jobs.items[job.job_id]["status"] == "canceled" and "watch_at" not in jobs.items[job.job_id]
    assert announced == [(job.job_id, "job.canceled")]


def test_a_worker_that_later_receives_the_canceled_jobs_message_drops_it(
        deps: CancelDeps, jobs: FakeJobRepository, worker_deps: Callable[..., WorkerDeps]) -> None:
    # Given a job canceled while its message was still in the queue
    job = queued_job(jobs)
    cancel_job(job.account_id, job.job_id, deps)
    provider = ScriptedProvider()
    seen: list[Any] = []
    worker = worker_deps(provider)
    worker = WorkerDeps(**{**worker.__dict__, "announce": lambda *args: seen.append(args)})

    # When a worker receives that message
    outcome = run_job(job.job_id, worker)

    # Then it does not claim or run it; it only makes sure the job's event was queued
    assert outcome == "skipped_canceled" and provider.calls == []
    assert jobs.items[job.job_id]["status"] == "canceled"
    assert [args[0].job_id for args in seen] == [job.job_id]


@pytest.mark.parametrize(("state", "says"), [
    ({"status": "running", "claim_token": "t", "lease_until": 2_000_000_000}, "already running"),
    ({"status": "succeeded"}, "already ended (succeeded)"),
    ({"status": "failed"}, "already ended (failed)"),
    ({"status": "canceled"}, "already ended (canceled)"),
    ({"produced": ProducedOutputs(outputs=[]).model_dump()}, "already produced"),
])
def test_only_a_queued_job_without_images_can_be_canceled(deps: CancelDeps, jobs: FakeJobRepository,
                                                          announced: Announced, state: dict, says: str) -> None:
    job = queued_job(jobs)
    jobs.set(job.job_id, **state)

    with pytest.raises(JobNotCancelable) as refused:
        cancel_job(job.account_id, job.job_id, deps)

    assert (refused.value.status_code, refused.value.code) == (409, "job_not_cancelable")
    assert says in refused.value.message and announced == []


def test_a_job_a_worker_claims_while_it_is_being_canceled_is_a_409(deps: CancelDeps, jobs: FakeJobRepository,
                                                                  announced: Announced) -> None:
    # Given a queued job that a worker claims between the cancel's read and its write
    class ClaimedFirst(FakeJobRepository):
        def end(self, transition: JobEnd, **kwargs: Any) -> bool:
            self.claim(transition.job_id, token="worker", now=1, lease_until=2_000_000_000)
            return super().end(transition, **kwargs)

    racing = ClaimedFirst()
    job = queued_job(racing)
    raced = cancel_deps_over(jobs=racing, queue=deps.queue, announce=announced)

    # When its owner cancels it, Then the worker's claim wins and the cancel is refused as for a running job
    with pytest.raises(JobNotCancelable, match="already running"):
        cancel_job(job.account_id, job.job_id, raced)
    assert racing.items[job.job_id]["status"] == "running" and announced == []


def test_another_accounts_or_an_unknown_job_is_a_404(deps: CancelDeps, jobs: FakeJobRepository) -> None:
    job = queued_job(jobs)
    with pytest.raises(JobNotFound):
        cancel_job("acct_someoneelse0000000", job.job_id, deps)
    with pytest.raises(JobNotFound):
        cancel_job(job.account_id, "job_" + "z" * 24, deps)
    assert jobs.items[job.job_id]["status"] == "queued"


def test_when_the_event_cannot_be_queued_the_jobs_message_makes_a_worker_announce_it(
        deps: CancelDeps, jobs: FakeJobRepository, queue: FakeJobQueue, announced: Announced) -> None:
    job = queued_job(jobs)
    announced.fail = True

    outcome = cancel_job(job.account_id, job.job_id, deps)

    assert outcome.record.status == "canceled" and queue.sent == [job.job_id]


def test_a_retried_cancel_under_its_key_replays_and_the_key_is_bound_to_its_job(
        deps: CancelDeps, jobs: FakeJobRepository, announced: Announced) -> None:
    # Given a job canceled under a key
    job = queued_job(jobs)
    other = queued_job(jobs, account_id=job.account_id)
    first = cancel_job(job.account_id, job.job_id, deps, idempotency=keyed(job.account_id, job.job_id))

    # When the same cancel is retried, and the key is used to cancel another job
    again = cancel_job(job.account_id, job.job_id, deps, idempotency=keyed(job.account_id, job.job_id))
    with pytest.raises(IdempotencyKeyReused):
        cancel_job(job.account_id, other.job_id, deps, idempotency=keyed(job.account_id, other.job_id))

    # Then the retry is a replay of the canceled job (not a 409), announced once; the other job is untouched
    assert (first.replayed, again.replayed, again.record.status) == (False, True, "canceled")
    assert announced == [(job.job_id, "job.canceled")] and jobs.items[other.job_id]["status"] == "queued"


def test_a_job_whose_submit_has_not_held_its_price_is_not_found(deps: CancelDeps, jobs: FakeJobRepository) -> None:
    # Given a job still waiting for its hold (its submit is between steps, or died)
    job = queued_job(jobs)
    jobs.set(job.job_id, hold_pending=job.reserved_micros)

    # When its owner reads or cancels it, then it does not exist yet (it may never be accepted)
    with pytest.raises(JobNotFound):
        find_job(jobs, job.account_id, job.job_id)
    with pytest.raises(JobNotFound):
        cancel_job(job.account_id, job.job_id, deps)
    assert jobs.items[job.job_id]["status"] == "queued"
