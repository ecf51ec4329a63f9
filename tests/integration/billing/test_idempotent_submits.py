"""Idempotency-Key on submits against moto: through the api function (status, headers, bodies), and 20 identical
submits at once under one key (one job, one hold, twenty answers naming it; the books reconcile)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from retouch.billing.reconcile import check_account
from retouch.config import api_settings
from retouch.data.ledger import LedgerRepository
from retouch.data.usage import AccountJobs
from retouch.jobs.idempotency import keyed_request, once, replayed_job
from retouch.jobs.submit import submit_generation
from retouch.models.requests import GenerationRequest
from tests.builders import admission_for, generation_payload, json_event
from tests.integration.billing.conftest import seed, submit_deps_on_moto
from tests.integration.billing.pricing import low_1024_hold
from tests.integration.core.aws_stack import Stack, client, json_body

API = "ApiFunction"
CREDIT = 1_000_000


def post(stack: Stack, account_id: str, key: str | None, **payload: Any) -> dict[str, Any]:
    headers = {"idempotency-key": key} if key is not None else {}
    event = json_event("generation.json", generation_payload(quality="low", size="1024x1024") | payload,
                       account_id=account_id, headers=headers)
    event["headers"].pop("prefer", None)
    return stack.invoke(API, event)


def ledger_kinds(stack: Stack, account_id: str) -> list[str]:
    _, entries = LedgerRepository(stack.table, client("dynamodb")).account_with_ledger(account_id)
    return [entry.kind for entry in entries]


def test_a_replay_answers_the_original_job_with_idempotent_replayed_and_holds_nothing_more(fresh: Stack) -> None:
    # Given a generation submitted under a key
    account_id = seed(fresh, credit_micros=CREDIT)
    first = post(fresh, account_id, "order-1001")

    # When the same request comes again under that key
    again = post(fresh, account_id, "order-1001")

    # Then both are 202 naming the same job; the second says it is a replay; one job, one hold, one message
    assert (first["statusCode"], again["statusCode"]) == (202, 202)
    assert json_body(again)["id"] == json_body(first)["id"]
    assert again["headers"]["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first["headers"]
    assert again["headers"]["Location"] == f"/v1/jobs/{json_body(first)['id']}"
    assert len(fresh.jobs_of(account_id)) == 1 and ledger_kinds(fresh, account_id) == ["credit", "reserve"]
    assert fresh.message_counts(fresh.jobs_queue) == (1, 0)


def test_a_different_request_under_the_key_is_a_422_and_a_bad_key_a_400(fresh: Stack) -> None:
    # Given a generation submitted under a key
    account_id = seed(fresh, credit_micros=CREDIT)
    post(fresh, account_id, "order-1002")

    # When another prompt comes under that key, and a request with a key of 256 characters
    reused = post(fresh, account_id, "order-1002", prompt="something else")
    too_long = post(fresh, account_id, "k" * 256)

    # Then 422 idempotency_key_reused and 400 invalid_idempotency_key, in OpenAI's error shape; nothing more held
    assert reused["statusCode"] == 422
    assert json_body(reused)["error"] == {
        "message": "This Idempotency-Key was already used for a different request; use a new key for a new request.",
        "type": "invalid_request_error", "param": "Idempotency-Key", "code": "idempotency_key_reused"}
    assert too_long["statusCode"] == 400 and json_body(too_long)["error"]["code"] == "invalid_idempotency_key"
    assert ledger_kinds(fresh, account_id) == ["credit", "reserve"]


def test_twenty_identical_submits_at_once_under_one_key_make_one_job_and_one_hold(fresh: Stack) -> None:
    # Given an account, and 20 threads ready to submit the same generation under the same key
    account_id = seed(fresh, credit_micros=CREDIT)
    settings = api_settings()
    dynamodb = client("dynamodb")
    deps = submit_deps_on_moto(with_keys=True)
    jobs, ledger = deps.jobs, deps.billing.ledger
    request = GenerationRequest.model_validate(generation_payload(quality="low", size="1024x1024"))
    start = threading.Barrier(20)

    def attempt(_: int) -> tuple[str, bool]:
        keyed = keyed_request("retry-me", account_id, "images.generations", request, seconds_left=29)
        start.wait()
        outcome = once(keyed, deps.keys, lambda first: submit_generation(admission_for(ledger, account_id), request,
                                                                         deps, idempotency=first),
                       lambda job_id: replayed_job(jobs, account_id, job_id))
        return outcome.record.job_id, outcome.replayed

    # When all 20 submit at once
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(attempt, range(20)))

    # Then every answer names the same job, one created it and 19 replayed it
    assert len({job_id for job_id, _ in answers}) == 1
    assert sorted(replayed for _, replayed in answers) == [False] + [True] * 19
    # And there is one job, one hold, one message; the balance is the credit less one hold; the books reconcile
    [job] = fresh.jobs_of(account_id)
    assert job["job_id"]["S"] == answers[0][0]
    assert ledger_kinds(fresh, account_id) == ["credit", "reserve"]
    account = ledger.get_account(account_id)
    assert (account.balance_micros, account.in_flight) == (CREDIT - low_1024_hold(), 1)
    assert fresh.message_counts(fresh.jobs_queue) == (1, 0)
    assert check_account(ledger, AccountJobs(settings.table_name, dynamodb), account_id) == []
