"""A hold that lands after its job was discarded (jobs/late_holds.py): the discard queues a delayed check, and the
worker's delivery of it gives the hold back once, never a hold whose job exists."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext

from retouch.jobs.abandoned import end_abandoned_message
from retouch.jobs.batch import JobBatch
from retouch.jobs.late_holds import LATE_HOLD_CHECK_DELAY_SECONDS, release_late_hold
from retouch.jobs.sweep import SweeperDeps, SweepPolicy, sweep
from retouch.models.messages import LateHoldCheck
from retouch.ports import Movement
from tests.builders import file_part, load_event, multipart_event, new_account_id, png, queued_job
from tests.fakes import (
    FakeFileRepository,
    FakeJobQueue,
    FakeJobRepository,
    FakeLedger,
    FakeObjectStore,
    FakeUrls,
    ScriptedProvider,
    account,
)
from tests.fakes.ledger import billing_over
from tests.fakes.wiring import submit_deps_over, worker_deps_over
from tests.unit.jobs.submitting import submit

CREDIT = 10**9


class LateLedger(FakeLedger):
    """A ledger whose hold request times out in the SDK and is applied by DynamoDB only when `land()` is called."""

    def __init__(self, jobs: FakeJobRepository) -> None:
        super().__init__(account(CREDIT, max_in_flight=100), jobs=jobs)
        self.in_flight_holds: list[tuple[str, str, int]] = []

    def hold(self, account_id: str, job_id: str, micros: int) -> Movement:
        self.in_flight_holds.append((account_id, job_id, micros))
        raise TimeoutError("read timeout on the hold; its outcome is unknown")

    def land(self) -> None:
        for account_id, job_id, micros in self.in_flight_holds:
            super().hold(account_id, job_id, micros)


def test_a_hold_landing_after_its_submit_discarded_the_job_is_given_back_by_the_delayed_check() -> None:
    # Given a submit whose hold request times out (its outcome unknown) and lands after the job was discarded
    jobs, store, queue = FakeJobRepository(), FakeObjectStore(), FakeJobQueue()
    ledger = LateLedger(jobs)
    deps = submit_deps_over(jobs=jobs, store=store, queue=queue, files=FakeFileRepository())
    deps = replace(deps, billing=replace(deps.billing, ledger=ledger))
    account_id = new_account_id()
    with pytest.raises(TimeoutError):
        submit(multipart_event([("prompt", "p"), file_part("image", png())], account_id=account_id), deps, account_id)
    assert jobs.items == {} and store.objects == {} and queue.sent == []
    ledger.land()
    [(_, job_id, price)] = ledger.in_flight_holds
    assert ledger.state is not None and ledger.state.holds == {job_id: price}  # credit held for no job

    # Then the discard queued a delayed check for exactly that hold
    assert queue.hold_checks == [(job_id, account_id, price, LATE_HOLD_CHECK_DELAY_SECONDS)]

    # When the worker gets the check (twice: SQS delivers at least once)
    check = LateHoldCheck(account_id=account_id, micros=price)
    outcomes = [release_late_hold(job_id, check, deps.billing) for _ in range(2)]

    # Then the hold is given back once: the balance whole, nothing in flight
    assert outcomes == ["late_hold_released", "no_late_hold"]
    assert (ledger.state.balance_micros, ledger.state.holds, ledger.state.in_flight) == (CREDIT, {}, 0)


def test_the_check_leaves_the_hold_of_a_job_that_exists() -> None:
    # Given a queued job holding its price
    jobs = FakeJobRepository()
    job = queued_job(jobs)
    deps = worker_deps_over(jobs=jobs, store=FakeObjectStore(), urls=FakeUrls(), queue=FakeJobQueue(),
                            provider=ScriptedProvider())
    ledger = deps.billing.ledger
    ledger.hold(job.account_id, job.job_id, job.reserved_micros or 1)
    before = ledger.get_account(job.account_id)

    # When a check for it arrives, then nothing is given back
    check = LateHoldCheck(account_id=job.account_id, micros=job.reserved_micros or 1)
    assert release_late_hold(job.job_id, check, deps.billing) == "no_late_hold"
    assert ledger.get_account(job.account_id) == before


def test_the_worker_runs_a_check_message_and_deletes_it() -> None:
    # Given an account holding credit for a job that does not exist, and the check's message
    jobs, queue = FakeJobRepository(), FakeJobQueue()
    deps = worker_deps_over(jobs=jobs, store=FakeObjectStore(), urls=FakeUrls(), queue=queue,
                            provider=ScriptedProvider())
    ledger = deps.billing.ledger
    account_id, job_id = new_account_id(), "job_" + "L" * 24
    balance = ledger.get_account(account_id).balance_micros
    ledger.hold(account_id, job_id, 6_000)
    [template] = load_event("sqs_job.json")["Records"]
    body = {"job_id": job_id, "late_hold": {"account_id": account_id, "micros": 6_000}}
    event: dict[str, Any] = {"Records": [dict(template, messageId="m1", receiptHandle="rh-m1", body=json.dumps(body))]}

    # When the worker gets it
    response = JobBatch(deps, queue.delay_redelivery).handle(event, context=LambdaContext())

    # Then the hold is given back and the message is done with (no failure, no redelivery)
    assert response["batchItemFailures"] == [] and queue.redeliveries == []
    state = ledger.get_account(account_id)
    assert (state.balance_micros, state.holds) == (balance, {})


def test_the_sweeper_queues_a_check_for_each_job_it_discards() -> None:
    # Given a job whose submitter died before its hold (hold_pending, past the grace)
    jobs, queue = FakeJobRepository(), FakeJobQueue()
    now = 10**9
    job = queued_job(jobs)
    jobs.set(job.job_id, created_at=now - 600, watch_at=now - 600, hold_pending=job.reserved_micros)
    deps = worker_deps_over(jobs=jobs, store=FakeObjectStore(), urls=FakeUrls(), queue=queue,
                            provider=ScriptedProvider())
    sweeper = SweeperDeps(jobs=jobs, queue=queue, billing=deps.billing, announce=lambda *_: None,
                          store=FakeObjectStore(), policy=SweepPolicy())

    # When the sweeper discards it
    report = sweep(sweeper, now)

    # Then a delayed check for its hold is queued
    assert report.discarded == [job.job_id]
    assert queue.hold_checks == [(job.job_id, job.account_id, job.reserved_micros, LATE_HOLD_CHECK_DELAY_SECONDS)]


def test_a_dead_lettered_check_still_gives_the_late_hold_back() -> None:
    # Given an account holding credit for a discarded job, and its check, dead-lettered after the worker kept failing
    jobs = FakeJobRepository()
    billing = billing_over(jobs)
    account_id, job_id = new_account_id(), "job_" + "D" * 24
    balance = billing.ledger.get_account(account_id).balance_micros
    billing.ledger.hold(account_id, job_id, 6_000)
    body = json.dumps({"job_id": job_id, "late_hold": {"account_id": account_id, "micros": 6_000}})

    # When the dead-letter function gets it
    handled = end_abandoned_message(body, billing, lambda *_: None)

    # Then the hold is given back (no job to end)
    state = billing.ledger.get_account(account_id)
    assert handled and (state.balance_micros, state.holds) == (balance, {})
