"""A request that waited for its job and saw it end without images is answered as OpenAI answers a failed call: the
error, by the job's code (400 for a refusal, 5xx for an upstream or our failure, 409 when canceled), never a 200 with
an empty `data` (which OpenAI's sample code reads as an IndexError). Shown through an Idempotency-Key replay: the
first request is not held, the job is ended, then the same request is sent again and waits on the ended job."""

from __future__ import annotations

import json
from typing import Any

import pytest

from retouch.admin.accounts import issue_key
from retouch.data.accounts import AccountRepository
from retouch.data.jobs import JobRepository
from retouch.models.common import now_epoch
from retouch.models.records import JobError
from tests.integration.core.aws_stack import Stack, client, json_body
from tests.integration.core.job_ends import cancel, fail_unfinished
from tests.integration.core.test_functions_in_one_process import API, SYNC, _generation, _on_the_url


def _keyed(event: dict[str, Any], key: str, prefer: str | None) -> dict[str, Any]:
    event["headers"]["idempotency-key"] = key
    if prefer is not None:
        event["headers"]["prefer"] = prefer
    return event


@pytest.mark.parametrize(("code", "status", "error_type"), [
    ("moderation_blocked", 400, "invalid_request_error"),
    ("provider_safety_refusal", 400, "invalid_request_error"),
    ("provider_unavailable", 502, "server_error"),
    ("provider_timeout", 504, "server_error"),
    ("processing_failed", 500, "server_error"),
])
def test_the_sync_entry_answers_a_failed_job_with_its_error(stack: Stack, account_id: str, code: str, status: int,
                                                            error_type: str) -> None:
    # Given a generation sent to the sync entry, not held, and its job ended failed with `code`
    authorization = f"Bearer {issue_key(AccountRepository(stack.table, client('dynamodb')), account_id).raw_key}"
    key = f"waited-{code}"
    first = stack.invoke(SYNC, _keyed(_on_the_url(_generation(account_id), authorization), key, "respond-async"),
                         remaining_millis=10_000)
    assert first["statusCode"] == 202, first["body"]
    job_id = json_body(first)["id"]
    assert fail_unfinished(JobRepository(stack.table, client("dynamodb")), job_id,
                           error=JobError(code=code, message="the upstream said no"), now=now_epoch())

    # When the same request is sent again and held (the sync entry's default)
    again = stack.invoke(SYNC, _keyed(_on_the_url(_generation(account_id), authorization), key, None),
                         remaining_millis=10_000)

    # Then it is the job's error, OpenAI-shaped, naming the job, which the SDKs do not send again on their own
    assert again["statusCode"] == status, again["body"]
    error = json.loads(again["body"])["error"]
    assert (error["type"], error["code"]) == (error_type, code)
    assert job_id in error["message"] and "the upstream said no" in error["message"]
    assert again["headers"]["Location"] == f"/v1/jobs/{job_id}"
    assert again["headers"]["x-should-retry"] == "false"


def test_prefer_wait_through_api_gateway_answers_a_canceled_job_409(stack: Stack, account_id: str) -> None:
    # Given a generation through API Gateway, not held, then canceled
    first = stack.invoke(API, _keyed(_generation(account_id), "waited-cancel", "respond-async"))
    assert first["statusCode"] == 202, first["body"]
    job_id = json_body(first)["id"]
    assert cancel(JobRepository(stack.table, client("dynamodb")), job_id, now=now_epoch())

    # When the same request waits for it
    again = stack.invoke(API, _keyed(_generation(account_id), "waited-cancel", "wait=5"), remaining_millis=10_000)

    # Then it is 409 job_canceled, and a succeeded job would still be its 200 ImagesResponse (web/routes/images.py)
    assert again["statusCode"] == 409, again["body"]
    assert json.loads(again["body"])["error"]["code"] == "job_canceled"
    assert again["headers"]["x-should-retry"] == "false"
