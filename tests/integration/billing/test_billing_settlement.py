"""Settling through the worker and dead-letter functions: charged once for what was produced, released
otherwise, whatever the deliveries, crashes and retries; in-flight always back to where it was."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from retouch.billing.charges import JobBilling
from retouch.billing.prices import price_table
from retouch.config import api_settings, worker_settings
from retouch.data.files import FileRepository
from retouch.data.jobs import JobRepository
from retouch.data.ledger import LedgerRepository
from retouch.data.objects import ObjectStore
from retouch.errors import QueueUnavailable
from retouch.jobs.process import run_job
from retouch.jobs.submit import SubmitDeps, submit_generation
from retouch.models.common import now_epoch
from retouch.models.outcome import JobOutcome
from retouch.models.records import StoredOutput
from retouch.models.requests import GenerationRequest
from retouch.providers.base import ProviderUnavailable
from retouch.routing.document import load_routing
from retouch.routing.support import UpstreamSupport
from retouch.wiring.worker import build_worker
from tests.builders import (
    admission_for,
    generation_payload,
    get_job_event,
    json_event,
    sqs_event,
)
from tests.fakes import no_webhook
from tests.fakes.routing import routing_deps
from tests.integration.billing.conftest import seed
from tests.integration.billing.pricing import low_1024_charge, low_1024_hold
from tests.integration.core.aws_stack import Stack, client, json_body

API, WORKER, STATUS, DEAD = "ApiFunction", "WorkerFunction", "StatusFunction", "DeadLetterFunction"
CREDIT = 1_000_000


def ledger(stack: Stack) -> LedgerRepository:
    return LedgerRepository(stack.table, client("dynamodb"))


def submit(stack: Stack, account_id: str, **payload: Any) -> str:
    body = generation_payload(quality="low", size="1024x1024") | payload
    response = stack.invoke(API, json_event("generation.json", body, account_id=account_id))
    assert response["statusCode"] == 202, response["body"]
    return json_body(response)["id"]


def settles_of(stack: Stack, account_id: str, job_id: str) -> list[Any]:
    _, entries = ledger(stack).account_with_ledger(account_id)
    return [e for e in entries if e.job_id == job_id and e.kind == "settle"]


def assert_settled(stack: Stack, account_id: str, job_id: str, *, charged: int) -> None:
    account, entries = ledger(stack).account_with_ledger(account_id)
    [settle] = settles_of(stack, account_id, job_id)
    assert settle.charged_micros == charged
    assert account.balance_micros == CREDIT - charged == sum(e.amount_micros for e in entries)
    assert account.in_flight == 0


def test_a_succeeded_job_is_charged_for_its_images_and_shows_cost_and_images(fresh: Stack) -> None:
    # Given a queued job for n=2 low 1024x1024 images
    account_id = seed(fresh, credit_micros=CREDIT)
    job_id = submit(fresh, account_id, n=2)

    # When the worker runs it
    fresh.run_worker_once()

    # Then 2 x $0.006 and the prompt's tokens are charged, nothing else held, and the job shows usage.images,
    # cost_usd and tokens
    assert_settled(fresh, account_id, job_id, charged=low_1024_charge(n=2))
    job = json_body(fresh.invoke(STATUS, get_job_event(job_id, account_id=account_id)))
    assert job["status"] == "succeeded"
    assert job["usage"]["images"] == 2 and job["usage"]["cost_usd"] == low_1024_charge(n=2) / 1_000_000
    assert job["usage"]["pricing"]["outputs_usd"] == 0.012 and job["usage"]["pricing"]["inputs_usd"] > 0
    assert "total_tokens" in job["usage"] or "output_tokens" in job["usage"]


def test_a_failed_job_is_refunded_in_full(fresh: Stack) -> None:
    # Given a job the provider refuses (a safety block)
    account_id = seed(fresh, credit_micros=CREDIT)
    job_id = submit(fresh, account_id, prompt="a lighthouse [fault:safety]", n=3)

    # When the worker runs it
    fresh.run_worker_once()

    # Then it failed and its whole hold came back: the balance is the credit again, in-flight 0
    assert fresh.job_item(job_id)["status"] == "failed"
    assert_settled(fresh, account_id, job_id, charged=0)
    [settle] = settles_of(fresh, account_id, job_id)
    assert settle.released_micros == low_1024_hold("a lighthouse [fault:safety]", 3) and settle.outcome == "failed"


def test_a_job_delivered_twice_is_charged_once(fresh: Stack) -> None:
    # Given a queued job whose message is delivered twice (SQS is at-least-once)
    account_id = seed(fresh, credit_micros=CREDIT)
    job_id = submit(fresh, account_id)
    [message] = fresh.receive(fresh.jobs_queue)
    event = fresh.worker_event(message)

    # When the worker handles both deliveries
    fresh.invoke(WORKER, event)
    fresh.invoke(WORKER, event)

    # Then there is one settlement, one charge
    assert_settled(fresh, account_id, job_id, charged=low_1024_charge())


def _worker_deps(**replace: Any) -> Any:
    deps, _queue = build_worker(worker_settings())
    return dataclasses.replace(deps, **replace)


class CrashAfterProvider:
    """The object store of a worker that dies right after the provider answered (before anything is saved)."""

    def __init__(self, inner: ObjectStore) -> None:
        self._inner = inner

    def get(self, key: str) -> bytes:
        return self._inner.get(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        raise SystemExit("worker killed")


def expire_lease(job_id: str, stack: Stack) -> None:
    client("dynamodb").update_item(TableName=stack.table, Key={"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": "JOB"}},
                                   UpdateExpression="SET lease_until = :past",
                                   ExpressionAttributeValues={":past": {"N": "0"}})


def test_a_worker_that_dies_after_the_provider_call_is_charged_once(fresh: Stack) -> None:
    # Given a job claimed by a worker that dies after the provider call, before finishing
    account_id = seed(fresh, credit_micros=CREDIT)
    job_id = submit(fresh, account_id)
    dying = _worker_deps(store=CrashAfterProvider(ObjectStore(worker_settings().bucket_name)))
    with pytest.raises(SystemExit):
        run_job(job_id, dying)
    assert fresh.job_item(job_id)["status"] == "running"
    assert settles_of(fresh, account_id, job_id) == []

    # When its lease expires and the message is delivered again to a healthy worker (twice, for good measure)
    expire_lease(job_id, fresh)
    [message] = fresh.receive(fresh.jobs_queue)
    fresh.invoke(WORKER, fresh.worker_event(message))
    fresh.invoke(WORKER, fresh.worker_event(message))

    # Then the job succeeded and was charged exactly once
    assert fresh.job_item(job_id)["status"] == "succeeded"
    assert_settled(fresh, account_id, job_id, charged=low_1024_charge())


def test_a_worker_that_lost_its_lease_cannot_charge_again(fresh: Stack) -> None:
    # Given a slow worker whose lease expired, and a second worker that took the job over and finished it
    account_id = seed(fresh, credit_micros=CREDIT)
    job_id = submit(fresh, account_id)
    jobs = JobRepository(fresh.table, client("dynamodb"))
    slow = jobs.claim(job_id, token="slow", now=1, lease_until=2)
    expire_lease(job_id, fresh)
    assert run_job(job_id, _worker_deps()) == "succeeded"

    # When the slow worker finally tries to finish (succeeded, with its own outputs)
    billing = JobBilling(ledger=ledger(fresh), jobs=jobs, prices=price_table())
    ended = billing.finish(slow, token="slow", outcome=JobOutcome(
        status="succeeded", completed_at=now_epoch(), outputs=(
            StoredOutput(key="k", content_type="image/png", bytes=1, width=1024, height=1024),)))

    # Then nothing is written: still one settlement
    assert ended is False
    assert_settled(fresh, account_id, job_id, charged=low_1024_charge())


class Unavailable:
    def generate(self, *, options: dict[str, Any]) -> Any:
        raise ProviderUnavailable("provider_unavailable", "503 from the provider")

    def edit(self, **_kwargs: Any) -> Any:
        raise ProviderUnavailable("provider_unavailable", "503 from the provider")


def test_a_job_whose_retries_are_exhausted_is_released_in_full(fresh: Stack) -> None:
    # Given a job on its last attempt against a provider that stays unavailable
    account_id = seed(fresh, credit_micros=CREDIT)
    job_id = submit(fresh, account_id, n=2)

    # When the worker runs it
    deps = _worker_deps(max_attempts=1)
    routing = routing_deps([Unavailable()], deps.jobs.record_attempts)
    outcome = run_job(job_id, dataclasses.replace(deps, routing=routing))

    # Then it failed and nothing was charged
    assert outcome == "failed"
    assert_settled(fresh, account_id, job_id, charged=0)


def test_a_dead_lettered_job_is_released_in_full_once(fresh: Stack) -> None:
    # Given a job stuck `running` whose message ran out of receives
    account_id = seed(fresh, credit_micros=CREDIT)
    job_id = submit(fresh, account_id)
    JobRepository(fresh.table, client("dynamodb")).claim(job_id, token="dead", now=1, lease_until=2)

    # When the dead-letter function gets the message, twice
    response = fresh.invoke(DEAD, sqs_event("sqs_dead_letter.json", job_id))
    fresh.invoke(DEAD, sqs_event("sqs_dead_letter.json", job_id))

    # Then the job failed and its hold was released once
    assert response == {"batchItemFailures": []}
    assert fresh.job_item(job_id)["status"] == "failed"
    assert_settled(fresh, account_id, job_id, charged=0)


class DownQueue:
    def send(self, job_id: str, *, tenant: str | None = None, delay_seconds: int = 0,
             fetches_urls: bool | None = None) -> None:
        raise QueueUnavailable("The job queue is unavailable; try again shortly.")


def test_a_job_that_could_not_be_enqueued_is_released_in_full(fresh: Stack) -> None:
    # Given the api's collaborators with a queue that is down
    account_id = seed(fresh, credit_micros=CREDIT)
    settings = api_settings()
    jobs = JobRepository(settings.table_name)
    deps = SubmitDeps(jobs=jobs, store=ObjectStore(settings.bucket_name), queue=DownQueue(),
                      files=FileRepository(settings.table_name), webhook_for=no_webhook,
                      billing=JobBilling(ledger=LedgerRepository(settings.table_name), jobs=jobs, prices=price_table()),
                      upstream_support=UpstreamSupport(load_routing(settings.routing_document)))
    request = GenerationRequest.model_validate(generation_payload(quality="low", size="1024x1024"))

    # When a job is submitted
    with pytest.raises(QueueUnavailable):
        submit_generation(admission_for(deps.billing.ledger, account_id), request, deps)

    # Then the job ended failed and the hold came back
    [item] = fresh.jobs_of(account_id)
    job_id = item["job_id"]["S"]
    assert item["status"]["S"] == "failed"
    assert_settled(fresh, account_id, job_id, charged=0)
    assert json.loads(json.dumps(fresh.job_item(job_id)["usage"])) == {"images": 0, "cost_micros": 0}


class RetriesEveryTransaction:
    """A DynamoDB client whose transactions are sent twice with the same parameters, as the SDK retries one whose
    answer was lost (a reset connection after the commit)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def transact_write_items(self, **kwargs: Any) -> Any:
        self._inner.transact_write_items(**kwargs)
        return self._inner.transact_write_items(**kwargs)


def test_a_settlement_sent_again_after_it_committed_succeeds_and_charges_once(fresh: Stack) -> None:
    # Given a worker whose DynamoDB client resends each transaction after it committed
    account_id = seed(fresh, credit_micros=CREDIT)
    job_id = submit(fresh, account_id)
    jobs = JobRepository(fresh.table, client("dynamodb"))
    resending = JobBilling(ledger=LedgerRepository(fresh.table, RetriesEveryTransaction(client("dynamodb"))),
                           jobs=jobs, prices=price_table())

    # When the worker runs the job to success
    outcome = run_job(job_id, _worker_deps(billing=resending))

    # Then the resent settlement was recognised by its client token: the job succeeded (not "finished elsewhere"),
    # was charged once, and its end was this worker's to report
    assert outcome == "succeeded"
    assert_settled(fresh, account_id, job_id, charged=low_1024_charge())


def test_a_dead_lettered_copy_leaves_a_job_a_live_worker_holds_and_its_hold(fresh: Stack) -> None:
    # Given a job a live worker holds (lease far ahead), and a dead-lettered copy of its message
    account_id = seed(fresh, credit_micros=CREDIT)
    job_id = submit(fresh, account_id)
    jobs = JobRepository(fresh.table, client("dynamodb"))
    assert jobs.claim(job_id, token="live", now=1, lease_until=2**40)

    # When the dead-letter function gets the copy
    response = fresh.invoke(DEAD, sqs_event("sqs_dead_letter.json", job_id))

    # Then the job is still the live worker's, its credit still held, nothing settled
    assert response == {"batchItemFailures": []}
    item = fresh.job_item(job_id)
    assert (item["status"], item["claim_token"]) == ("running", "live")
    assert settles_of(fresh, account_id, job_id) == []
    # And the live worker can still finish it and be charged once
    live = jobs.get(job_id)
    billing = JobBilling(ledger=ledger(fresh), jobs=jobs, prices=price_table())
    assert billing.finish(live, token="live", outcome=JobOutcome(
        status="succeeded", completed_at=now_epoch(), outputs=(
            StoredOutput(key="k", content_type="image/png", bytes=1, width=1024, height=1024),)))
    assert_settled(fresh, account_id, job_id, charged=low_1024_charge())
