"""The admin tool, the account/usage/ledger routes of the status function, and reconciliation."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from retouch.admin.cli import main as admin
from tests.builders import authorizer_event, generation_payload, http_event, json_event
from tests.integration.billing.conftest import seed
from tests.integration.billing.pricing import low_1024_charge
from tests.integration.core.aws_stack import Stack, client, json_body

API, WORKER, STATUS, AUTHORIZER = "ApiFunction", "WorkerFunction", "StatusFunction", "AuthorizerFunction"


def run_admin(stack: Stack, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = admin(["--table", stack.table, *args])
    return code, capsys.readouterr().out


def submit(stack: Stack, account_id: str, **payload: Any) -> dict[str, Any]:
    body = generation_payload(quality="low", size="1024x1024") | payload
    return stack.invoke(API, json_event("generation.json", body, account_id=account_id))


def get(stack: Stack, sample: str, account_id: str, query: dict[str, str] | None = None) -> dict[str, Any]:
    event = http_event(sample, account_id=account_id)
    if query is not None:
        event["queryStringParameters"] = query
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    response = stack.invoke(STATUS, event)
    assert response["statusCode"] == 200, response["body"]
    return json_body(response)


def authorized_account(stack: Stack, raw_key: str) -> str:
    return stack.invoke(AUTHORIZER, authorizer_event(f"Bearer {raw_key}"))["context"]["account_id"]


def test_an_operator_creates_an_account_credits_it_and_issues_a_key_that_authorizes(
        fresh: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    # Given the admin tool against the stack's table
    code, out = run_admin(fresh, capsys, "create-account", "--name", "Acme", "--credit", "25", "--note", "welcome")
    account_id = re.search(r"acct_\w+", out).group(0)

    # When the operator adds credit with a note and creates a key
    assert run_admin(fresh, capsys, "add-credit", account_id, "0.50", "--note", "promo")[0] == 0
    code, out = run_admin(fresh, capsys, "create-key", account_id)
    raw_key = re.search(r"rt_live_[A-Za-z0-9_-]+", out).group(0)

    # Then the key (rt_live_ + 32 or more url-safe characters) authorizes the account, is listed by prefix
    # only, and the ledger shows both credits with their notes
    assert code == 0 and len(raw_key) >= len("rt_live_") + 32
    assert authorized_account(fresh, raw_key) == account_id
    listing = run_admin(fresh, capsys, "list-keys", account_id)[1]
    assert raw_key[:12] in listing and raw_key not in listing
    code, out = run_admin(fresh, capsys, "ledger", account_id)
    assert "welcome" in out and "promo" in out and "$25.500000" in out


def test_a_revoked_key_and_a_suspended_account_are_refused(fresh: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    # Given an account with two keys
    account_id = seed(fresh, credit_micros=1_000_000)
    (revoked_id, revoked), (_, other) = [
        re.search(r"key_id\s+(key_\w+)\s+api_key\s+(rt_live_[A-Za-z0-9_-]+)", out).groups()
        for out in (run_admin(fresh, capsys, "create-key", account_id)[1] for _ in range(2))]

    # When one key is revoked, then the account is suspended
    assert run_admin(fresh, capsys, "revoke-key", account_id, revoked_id)[0] == 0
    after_revoke = (authorized_account(fresh, revoked), authorized_account(fresh, other))
    assert run_admin(fresh, capsys, "suspend", account_id)[0] == 0

    # Then the revoked key is refused (no account: the API answers 401), the other works until the suspension
    assert after_revoke == ("", account_id)
    assert authorized_account(fresh, other) == ""
    assert submit(fresh, account_id)["statusCode"] == 401


def test_set_limits_changes_what_a_submission_may_do(fresh: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    # Given an account whose in-flight limit is set to 1 by the operator
    account_id = seed(fresh, credit_micros=1_000_000)
    assert run_admin(fresh, capsys, "set-limits", account_id, "--max-in-flight", "1", "--rpm", "5")[0] == 0

    # When it submits twice
    first, second = submit(fresh, account_id), submit(fresh, account_id)

    # Then the second is refused for concurrency and the rate headers show the new limit
    assert first["statusCode"] == 202 and first["headers"]["x-ratelimit-limit-requests"] == "5"
    assert json_body(second)["error"]["code"] == "concurrency_limit_exceeded"


def test_account_usage_and_ledger_routes_show_the_callers_money(fresh: Stack) -> None:
    # Given an account that ran one succeeded (n=2) and one failed job
    account_id = seed(fresh, credit_micros=1_000_000)
    submit(fresh, account_id, n=2)
    fresh.run_worker_once()
    submit(fresh, account_id, prompt="x [fault:safety]")
    fresh.run_worker_once()

    # When it reads its account, its usage and its ledger (two entries a page)
    account = get(fresh, "get_account.json", account_id)
    today = datetime.now(UTC).date()
    around = {"start": (today - timedelta(days=1)).isoformat(), "end": (today + timedelta(days=1)).isoformat()}
    usage = get(fresh, "get_usage.json", account_id, around)
    first = get(fresh, "get_ledger.json", account_id, {"limit": "2"})
    rest = get(fresh, "get_ledger.json", account_id, {"limit": "100", "after": first["next_cursor"]})

    # Then the balance is the credit less 2 x $0.006 and the prompt's tokens, the usage has 2 jobs, 2 images and that
    # cost for gpt-image-2, and the ledger's 5 entries (credit, 2 reserves, 2 settles) page newest first
    charged = low_1024_charge(n=2)
    assert (account["balance_micros"], account["in_flight"]) == (1_000_000 - charged, 0)
    assert account["limits"] == {"max_in_flight": 100, "requests_per_minute": 1000}
    [bucket] = usage["data"]
    assert (bucket["model"], bucket["jobs"], bucket["images"], bucket["cost_micros"]) == ("gpt-image-2", 2, 2, charged)
    entries = first["data"] + rest["data"]
    assert first["has_more"] and len(entries) == 5
    assert [e["kind"] for e in entries][-1] == "credit"
    assert entries[0]["balance_after_micros"] == 1_000_000 - charged


def test_reconcile_passes_after_a_mixed_run_and_fails_when_an_item_is_tampered_with(
        fresh: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    # Given an account with succeeded, failed and refused (402) jobs and one still queued
    account_id = seed(fresh, credit_micros=30_000)
    submit(fresh, account_id, n=2)
    fresh.run_worker_once()
    submit(fresh, account_id, prompt="y [fault:safety]")
    fresh.run_worker_once()
    assert submit(fresh, account_id, quality="high")["statusCode"] == 402
    assert submit(fresh, account_id)["statusCode"] == 202

    # When reconciliation runs, then after the account's balance is tampered with
    passed = run_admin(fresh, capsys, "reconcile", "--account", account_id, "--pause", "0")
    client("dynamodb").update_item(
        TableName=fresh.table, Key={"pk": {"S": f"ACCOUNT#{account_id}"}, "sk": {"S": "ACCOUNT"}},
        UpdateExpression="SET balance_micros = balance_micros + :one", ExpressionAttributeValues={":one": {"N": "1"}})
    failed = run_admin(fresh, capsys, "reconcile", "--account", account_id, "--pause", "0")

    # Then it passes (exit 0) first, and exits non-zero naming the difference after
    assert passed[0] == 0, passed[1]
    assert failed[0] == 1 and "DIFFERENCE" in failed[1] and account_id in failed[1]


def test_reconcile_catches_a_tampered_ledger_entry(fresh: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a settled job whose settle entry was edited to return more than was held
    account_id = seed(fresh, credit_micros=100_000)
    job_id = json_body(submit(fresh, account_id))["id"]
    fresh.run_worker_once()
    client("dynamodb").update_item(
        TableName=fresh.table, Key={"pk": {"S": f"ACCOUNT#{account_id}"}, "sk": {"S": f"LEDGER#{job_id}.settle"}},
        UpdateExpression="SET amount_micros = :more", ExpressionAttributeValues={":more": {"N": "6000"}})

    # When reconciliation runs over every account
    code, out = run_admin(fresh, capsys, "reconcile", "--pause", "0")

    # Then it exits non-zero
    assert code == 1 and job_id in out


def test_a_keys_mcp_ceiling_set_by_the_operator_is_shown_to_that_key_on_its_account(
        fresh: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    # Given two keys of one account, one created with a $0.40 MCP ceiling
    account_id = seed(fresh, credit_micros=1_000_000)
    limited, plain = [re.search(r"rt_live_[A-Za-z0-9_-]+", run_admin(fresh, capsys, "create-key", account_id,
                                                                      *extra)[1]).group(0)
                      for extra in (("--max-cost-per-call", "0.40"), ())]

    # When each reads GET /v1/account through the authorizer's answer for it
    def account_seen_by(raw_key: str) -> dict[str, Any]:
        event = http_event("get_account.json", account_id=account_id)
        event["requestContext"]["authorizer"] = {
            "lambda": fresh.invoke(AUTHORIZER, authorizer_event(f"Bearer {raw_key}"))["context"]}
        response = fresh.invoke(STATUS, event)
        assert response["statusCode"] == 200, response["body"]
        return json_body(response)

    # Then only the limited key sees its ceiling (the account's other keys have none of their own)
    assert account_seen_by(limited)["key_max_cost_per_call_micros"] == 400_000
    assert account_seen_by(plain)["key_max_cost_per_call_micros"] is None
