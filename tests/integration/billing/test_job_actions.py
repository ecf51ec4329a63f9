"""Changes a caller makes to its jobs, through the api function's handler on moto: deleting an ended job's images
(the billing record stays: usage and reconciliation are unchanged)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from retouch.billing.reconcile import check_account
from retouch.data.ledger import LedgerRepository
from retouch.data.usage import AccountJobs
from tests.integration.billing.conftest import seed
from tests.integration.core.aws_stack import Stack, client, json_body
from tests.unit.core.builders import (
    file_part,
    get_job_event,
    http_event,
    job_event,
    list_jobs_event,
    multipart_event,
    png,
)

API, STATUS = "ApiFunction", "StatusFunction"
CREDIT = 1_000_000


def reconciled(stack: Stack, account_id: str) -> list[Any]:
    return check_account(LedgerRepository(stack.table, client("dynamodb")), AccountJobs(stack.table, client("dynamodb")),
                         account_id)


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
    assert (usage["total_jobs"], usage["total_images"], usage["total_cost_micros"]) == (1, 1, 6_000)
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
