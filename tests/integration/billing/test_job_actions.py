"""Changes a caller makes to its jobs, through the api function's handler on moto: canceling a queued job (its hold
released in the same transaction, job.canceled queued, its message dropped by the worker) and deleting an ended
job's images (the billing record stays: usage and reconciliation are unchanged)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from retouch.billing.reconcile import check_account
from retouch.data.ledger import LedgerRepository
from retouch.data.usage import AccountJobs
from tests.builders import (
    file_part,
    generation_payload,
    get_job_event,
    http_event,
    job_event,
    json_event,
    list_jobs_event,
    multipart_event,
    png,
)
from tests.integration.billing.conftest import seed
from tests.integration.billing.pricing import LOW_1024, low_1024_hold
from tests.integration.core.aws_stack import Stack, client, json_body

API, STATUS = "ApiFunction", "StatusFunction"
CREDIT = 1_000_000


def reconciled(stack: Stack, account_id: str) -> list[Any]:
    dynamodb = client("dynamodb")
    return check_account(LedgerRepository(stack.table, dynamodb), AccountJobs(stack.table, dynamodb), account_id)


def submit_edit(stack: Stack, account_id: str) -> str:
    event = multipart_event([("prompt", "a hat"), ("quality", "low"), ("size", "1024x1024"),
                             file_part("image", png())], account_id=account_id)
    response = stack.invoke(API, event)
    assert response["statusCode"] == 202, response["body"]
    return json_body(response)["id"]


def test_deleting_an_ended_job_removes_its_images_and_keeps_its_billing_record(fresh: Stack) -> None:
    # Given a succeeded edit with its input and output in S3
    account_id = seed(fresh, credit_micros=CREDIT)
    job_id = submit_edit(fresh, account_id)
    fresh.run_worker_once()
    assert fresh.keys_under(f"inputs/{account_id}/{job_id}/") and fresh.keys_under(f"outputs/{job_id}/")

    # When its owner deletes it
    response = fresh.invoke(API, job_event("delete_job.json", job_id, account_id=account_id))

    # Then it is a 204 with no body, and its images are gone now
    assert (response["statusCode"], response.get("body") or "") == (204, "")
    assert fresh.keys_under(f"inputs/{account_id}/{job_id}/") == [] == fresh.keys_under(f"outputs/{job_id}/")
    # And reads of it, the listing, and a second delete no longer find it
    assert fresh.invoke(STATUS, get_job_event(job_id, account_id=account_id))["statusCode"] == 404
    listing = json_body(fresh.invoke(STATUS, list_jobs_event(account_id=account_id)))
    assert listing["data"] == []
    assert fresh.invoke(API, job_event("delete_job.json", job_id, account_id=account_id))["statusCode"] == 404
    # And its billing record stays: the usage report still counts its image and cost, the books reconcile
    usage = json_body(fresh.invoke(STATUS, http_event("get_usage.json", account_id=account_id) | {
        "queryStringParameters": {"start": datetime.now(UTC).date().isoformat()}}))
    _, entries = LedgerRepository(fresh.table, client("dynamodb")).account_with_ledger(account_id)
    [charged] = [e.charged_micros for e in entries if e.kind == "settle"]
    assert charged is not None and charged > LOW_1024  # the image and the prompt's tokens, beside the output
    assert (usage["total_jobs"], usage["total_images"], usage["total_cost_micros"]) == (1, 1, charged)
    assert reconciled(fresh, account_id) == []
    assert "prompt" not in fresh.job_item(job_id)["request"]


def test_an_unfinished_job_is_a_409_and_another_accounts_a_404(fresh: Stack) -> None:
    # Given a queued job
    account_id = seed(fresh, credit_micros=CREDIT)
    job_id = submit_edit(fresh, account_id)

    # When its owner, then another account, try to delete it
    unfinished = fresh.invoke(API, job_event("delete_job.json", job_id, account_id=account_id))
    foreign = fresh.invoke(API, job_event("delete_job.json", job_id, account_id=seed(fresh, credit_micros=0)))

    # Then 409 job_not_deletable and 404, and its input is still there
    assert unfinished["statusCode"] == 409 and json_body(unfinished)["error"]["code"] == "job_not_deletable"
    assert foreign["statusCode"] == 404 and json_body(foreign)["error"]["code"] == "job_not_found"
    assert fresh.keys_under(f"inputs/{account_id}/{job_id}/")


def submit_generation(stack: Stack, account_id: str, prompt: str = "a lighthouse") -> str:
    event = json_event("generation.json", generation_payload(prompt=prompt, quality="low", size="1024x1024"),
                       account_id=account_id)
    event["headers"].pop("prefer", None)
    response = stack.invoke(API, event)
    assert response["statusCode"] == 202, response["body"]
    return json_body(response)["id"]


def subscribe(stack: Stack, job_id: str) -> None:
    """Given-state: the job has a webhook for job.canceled (URLs are vetted at submit, which needs DNS)."""
    client("dynamodb").update_item(
        TableName=stack.table, Key={"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": "JOB"}},
        UpdateExpression="SET webhook = :w",
        ExpressionAttributeValues={":w": {"M": {"url": {"S": "https://hooks.example.com/h"},
                                                "events": {"L": [{"S": "job.canceled"}]},
                                                "emitted": {"L": []}, "delivered": {"L": []},
                                                "deliveries": {"L": []}}}})


def test_canceling_a_queued_job_releases_its_hold_at_once_and_its_message_is_dropped(fresh: Stack) -> None:
    # Given a queued job holding credit, subscribed to job.canceled, its message in the queue
    account_id = seed(fresh, credit_micros=CREDIT)
    prompt = f"never run #{uuid.uuid4().hex[:8]}"
    job_id = submit_generation(fresh, account_id, prompt)
    subscribe(fresh, job_id)

    # When its owner cancels it under an Idempotency-Key, then retries that cancel
    canceled = fresh.invoke(API, job_event("cancel_job.json", job_id, account_id=account_id))
    replayed = fresh.invoke(API, job_event("cancel_job.json", job_id, account_id=account_id))

    # Then it is canceled, and the retry replays that answer
    assert canceled["statusCode"] == 200 and json_body(canceled)["status"] == "canceled"
    assert replayed["statusCode"] == 200 and replayed["headers"]["Idempotent-Replayed"] == "true"
    # And the whole hold came back in the same transaction: balance, in flight, one settle entry, books reconciled
    account, entries = LedgerRepository(fresh.table, client("dynamodb")).account_with_ledger(account_id)
    assert (account.balance_micros, account.in_flight) == (CREDIT, 0)
    [settle] = [e for e in entries if e.kind == "settle"]
    assert (settle.job_id, settle.outcome, settle.charged_micros, settle.released_micros) == (
        job_id, "canceled", 0, low_1024_hold(prompt))
    assert reconciled(fresh, account_id) == []
    # And job.canceled was queued for the webhook
    [event] = [json.loads(m["Body"]) for m in fresh.receive(fresh.resources.queues["WebhooksQueue"])]
    assert (event["type"], event["job_id"]) == ("job.canceled", job_id)
    # And the worker that receives the job's message drops it: the provider is never called
    _, response = fresh.run_worker_once()
    assert response.get("batchItemFailures", []) == [] and fresh.job_item(job_id)["status"] == "canceled"
    assert fresh.provider.calls_for(prompt) == []


def test_a_running_or_ended_job_cannot_be_canceled_and_another_accounts_is_a_404(fresh: Stack) -> None:
    # Given a job that ran to success
    account_id = seed(fresh, credit_micros=CREDIT)
    job_id = submit_generation(fresh, account_id)
    fresh.run_worker_once()

    # When its owner cancels it (no key), and another account tries
    ended = fresh.invoke(API, job_event("cancel_job.json", job_id, account_id=account_id,
                                        headers={"idempotency-key": "other-key"}))
    foreign = fresh.invoke(API, job_event("cancel_job.json", job_id, account_id=seed(fresh, credit_micros=0)))

    # Then 409 job_not_cancelable (charged as it ended) and 404
    assert ended["statusCode"] == 409 and json_body(ended)["error"]["code"] == "job_not_cancelable"
    assert foreign["statusCode"] == 404
    assert fresh.job_item(job_id)["status"] == "succeeded"


def revoke_sample_key(stack: Stack, account_id: str) -> str:
    """Given-state: the sample events' key is revoked, as `revoke-key` leaves it (the authorizer's cache still passes
    it for up to 30 s, so its requests keep reaching the api function)."""
    key_id = http_event("cancel_job.json", account_id=account_id)["requestContext"]["authorizer"]["lambda"]["key_id"]
    client("dynamodb").update_item(
        TableName=stack.table, Key={"pk": {"S": f"ACCOUNT#{account_id}"}, "sk": {"S": "ACCOUNT"}},
        UpdateExpression="SET revoked_key_ids = :ids", ExpressionAttributeValues={":ids": {"L": [{"S": key_id}]}})
    return key_id


def redeliver_event(job_id: str, *, account_id: str) -> dict[str, Any]:
    """POST /v1/jobs/{job_id}/webhooks/redeliver (no sample of its own: the cancel sample, re-pathed)."""
    event = job_event("cancel_job.json", job_id, account_id=account_id)
    path = f"/v1/jobs/{job_id}/webhooks/redeliver"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["routeKey"] = event["requestContext"]["routeKey"] = "POST /v1/jobs/{job_id}/webhooks/redeliver"
    return event


def test_a_revoked_key_cannot_cancel_delete_or_redeliver_while_the_authorizer_cache_still_passes_it(
        fresh: Stack) -> None:
    # Given a queued job and an ended one, and then the key that made them revoked
    account_id = seed(fresh, credit_micros=CREDIT)
    ended = submit_edit(fresh, account_id)
    fresh.run_worker_once()
    queued = submit_edit(fresh, account_id)
    revoke_sample_key(fresh, account_id)

    # When that key (still passed by the authorizer's cache) cancels, deletes and asks for a redelivery
    answers = [fresh.invoke(API, job_event("cancel_job.json", queued, account_id=account_id)),
               fresh.invoke(API, job_event("delete_job.json", ended, account_id=account_id)),
               fresh.invoke(API, redeliver_event(ended, account_id=account_id))]

    # Then each is a 401 naming the revoked key, and nothing changed
    assert [answer["statusCode"] for answer in answers] == [401, 401, 401], [a.get("body") for a in answers]
    assert all("revoked" in json_body(answer)["error"]["message"] for answer in answers)
    assert fresh.job_item(queued)["status"] == "queued"
    assert fresh.keys_under(f"outputs/{ended}/")
