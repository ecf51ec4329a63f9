"""The console's own routes (issue #21: keys, webhook settings and deliveries, a job's images, the operator's views),
through an app create_app builds from their route groups with collaborators over moto, as the console function's
entry hands them a request: /console/api stripped, the session's principal in the authorizer context
(events/console_*.json)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from retouch.auth.authorize import Principal, authenticate
from retouch.billing.reconcile import reconcile
from retouch.data.account_directory import AccountDirectoryRepository
from retouch.data.accounts import AccountRepository
from retouch.data.breakers import BreakerRepository
from retouch.data.jobs import JobRepository
from retouch.data.ledger import LedgerRepository
from retouch.data.objects import ObjectStore
from retouch.data.usage import AccountJobs
from retouch.data.webhooks import JobWebhookLog, WebhookSettingsRepository
from retouch.models.common import now_epoch
from retouch.models.records import JobRecord, StoredInput, StoredOutput
from retouch.models.webhooks import DeliveryRecord, JobWebhook
from retouch.routing.document import load_routing
from retouch.routing.health import AlarmConsole
from retouch.web.app import create_app
from retouch.web.principal import registered_routes, route_key, with_principal
from retouch.web.routes import console_jobs, console_keys, console_operator, console_webhooks
from retouch.web.routes.console_jobs import ConsoleJobRoutes
from retouch.web.routes.console_keys import ConsoleKeyRoutes
from retouch.web.routes.console_operator import OperatorRoutes
from retouch.web.routes.console_webhooks import ConsoleWebhookRoutes
from tests.builders import load_event, new_account_id, new_job_id, png
from tests.integration.core.aws_stack import Stack, client

GROUPS = (console_keys, console_webhooks, console_jobs, console_operator)
ALARMS = ("retouch-JobsDeadLetteredAlarm-1A2B3C", "retouch-ProviderFailureRateAlarm-4D5E6F")
PREFIX = "/console/api"


@pytest.fixture
def console(stack: Stack) -> APIGatewayHttpResolver:
    """The console's route groups over the stack's table and bucket."""
    ledger = LedgerRepository(stack.table, client("dynamodb"))
    account_jobs = AccountJobs(stack.table, client("dynamodb"))
    jobs = JobRepository(stack.table, client("dynamodb"))
    store = ObjectStore(stack.bucket, client("s3"))
    return create_app([group.routes for group in GROUPS], [
        ConsoleKeyRoutes(accounts=AccountRepository(stack.table, client("dynamodb"))),
        ConsoleWebhookRoutes(settings=WebhookSettingsRepository(stack.table, client("dynamodb")),
                             account_jobs=account_jobs, allowlist=frozenset()),
        ConsoleJobRoutes(jobs=jobs, store=store, url_expiry_seconds=3600),
        OperatorRoutes(directory=AccountDirectoryRepository(stack.table, client("dynamodb")), credits=ledger,
                       account_jobs=account_jobs,
                       breakers=BreakerRepository(stack.table, client("dynamodb")),
                       routing=load_routing("default.json"), alarms=AlarmConsole(region="eu-west-1", names=ALARMS)),
    ])


def member(account_id: str, role: str = "member") -> Principal:
    return Principal(account_id=account_id, key_id="", console_user=f"user-{account_id[-8:]}", console_role=role)


def request(app: APIGatewayHttpResolver, method: str, path: str, principal: Principal | None, *,
            body: Any = None, headers: dict[str, str] | None = None, query: dict[str, str] | None = None,
            ) -> tuple[int, Any, dict[str, str]]:
    """A request as the console function's entry hands it to the app: from a console event, /console/api stripped,
    the session's principal (or a key's) in the authorizer context."""
    sample = "console_adjust_credit.json" if path.startswith("/operator/") else "console_create_key.json"
    event = load_event(sample)
    event["headers"].pop("idempotency-key", None)
    event["headers"].update(headers or {})
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["routeKey"] = event["requestContext"]["routeKey"] = f"ANY {PREFIX}/{{proxy+}}"
    event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in (query or {}).items())
    event["queryStringParameters"] = query
    event["body"] = json.dumps(body) if body is not None else None
    response = app.resolve(with_principal(event, principal), {})
    answer = json.loads(response["body"]) if response.get("body") else None
    return response["statusCode"], answer, response.get("headers") or {}


def keys_of(stack: Stack) -> AccountRepository:
    return AccountRepository(stack.table, client("dynamodb"))


# ---- keys ----------------------------------------------------------------------------------------------------------


def test_a_key_made_in_the_console_is_shown_once_works_on_the_api_and_once_revoked_is_refused(
        console: APIGatewayHttpResolver, stack: Stack, account_id: str) -> None:
    # Given a signed-in member
    person = member(account_id)

    # When they create a named key
    status, created, _ = request(console, "POST", "/keys", person, body={"name": "production"})

    # Then its secret is in that answer, the public API's authenticate() takes it for the account, and the key list
    # shows it without the secret
    assert status == 201 and created["name"] == "production" and created["key"].startswith("rt_live_")
    principal = authenticate(f"Bearer {created['key']}", keys_of(stack))
    assert principal is not None and (principal.account_id, principal.key_id) == (account_id, created["id"])
    status, listed, _ = request(console, "GET", "/keys", person)
    assert status == 200
    [shown] = [key for key in listed["data"] if key["id"] == created["id"]]
    assert "key" not in shown and created["key"] not in json.dumps(listed)
    assert shown == {"id": created["id"], "object": "api_key", "name": "production", "prefix": created["key"][:12],
                     "created_at": created["created_at"], "revoked_at": None}

    # When it is revoked
    status, revoked, _ = request(console, "DELETE", f"/keys/{created['id']}", person)

    # Then it answers the revoked key, and the API refuses it
    assert status == 200 and revoked["id"] == created["id"] and revoked["revoked_at"] >= created["created_at"]
    assert authenticate(f"Bearer {created['key']}", keys_of(stack)) is None
    account = keys_of(stack).get_account(account_id)
    assert account is not None and created["id"] in account.revoked_key_ids


def test_a_key_needs_a_name_and_another_accounts_key_is_not_found(console: APIGatewayHttpResolver,
                                                                   stack: Stack, account_id: str) -> None:
    # Given a key of another account
    other = stack.seed_account(new_account_id())
    _, theirs, _ = request(console, "POST", "/keys", member(other), body={"name": "theirs"})

    # When this account's member revokes it, or creates a key without a name
    revoke_status, revoke_error, _ = request(console, "DELETE", f"/keys/{theirs['id']}", member(account_id))
    unnamed_status, unnamed_error, _ = request(console, "POST", "/keys", member(account_id), body={"name": " "})

    # Then 404 (indistinguishable from a missing key) and 400, and the other account's key still works
    assert (revoke_status, revoke_error["error"]["code"]) == (404, "key_not_found")
    assert (unnamed_status, unnamed_error["error"]["param"]) == (400, "name")
    assert authenticate(f"Bearer {theirs['key']}", keys_of(stack)) is not None
    assert request(console, "GET", "/keys", member(account_id))[1]["data"] == []


# ---- who may call --------------------------------------------------------------------------------------------------


def _every_route(app: APIGatewayHttpResolver) -> list[tuple[str, str]]:
    values = {"key_id": "key_" + "a" * 16, "job_id": new_job_id(), "account_id": new_account_id()}
    return sorted((method, path.format(**values)) for method, path in map(route_key, registered_routes(app)))


def test_an_api_key_gets_console_session_required_on_every_console_route(console: APIGatewayHttpResolver,
                                                                         account_id: str) -> None:
    # Given the principal of an account's API key (no console user)
    key = Principal(account_id=account_id, key_id="key_" + "b" * 16)

    # When it calls each route of the console's groups
    answers = {route: request(console, *route, key, body={}) for route in _every_route(console)}

    # Then each is 403 console_session_required, before anything is read or written
    assert len(answers) == 12
    for route, (status, body, _) in answers.items():
        assert (status, body["error"]["type"], body["error"]["code"]) == (
            403, "permission_error", "console_session_required"), route


def test_a_member_gets_operator_only_on_the_operator_routes_and_no_session_gets_401(
        console: APIGatewayHttpResolver, account_id: str) -> None:
    # Given a member who is not an operator
    operator_routes = [route for route in _every_route(console) if route[1].startswith("/operator/")]

    # When they call each operator route, and a request without a session calls each route
    as_member = {route: request(console, *route, member(account_id), body={}) for route in operator_routes}
    signed_out = {route: request(console, *route, None, body={}) for route in _every_route(console)}

    # Then 403 operator_only, and 401
    assert len(operator_routes) == 4
    assert {route: (status, body["error"]["code"]) for route, (status, body, _) in as_member.items()} == {
        route: (403, "operator_only") for route in operator_routes}
    assert {status for status, _, _ in signed_out.values()} == {401}


# ---- operator: credit ------------------------------------------------------------------------------------------


def test_an_operator_adjusts_credit_once_per_idempotency_key_and_the_books_reconcile(
        console: APIGatewayHttpResolver, stack: Stack, account_id: str) -> None:
    # Given an operator and an account with $100
    operator = member(new_account_id(), "operator")
    path = f"/operator/accounts/{account_id}/credit"
    body = {"amount_usd": "12.345678", "reason": "goodwill for incident 12"}

    # When the same adjustment is sent twice under one Idempotency-Key
    first = request(console, "POST", path, operator, body=body, headers={"idempotency-key": "adj-1"})
    again = request(console, "POST", path, operator, body=body, headers={"idempotency-key": "adj-1"})

    # Then the balance rose once, both answers name the one entry (the second as a replay), whose note is the reason
    # and which the customer's ledger shows
    assert first[0] == again[0] == 200
    assert first[1]["balance_micros"] == again[1]["balance_micros"] == 112_345_678
    assert first[1]["entry"] == again[1]["entry"]
    assert (first[1]["entry"]["kind"], first[1]["entry"]["amount_micros"], first[1]["entry"]["note"]) == (
        "credit", 12_345_678, "goodwill for incident 12")
    assert "Idempotent-Replayed" not in first[2] and again[2]["Idempotent-Replayed"] == "true"
    ledger = LedgerRepository(stack.table, client("dynamodb"))
    account, entries = ledger.account_with_ledger(account_id)
    assert account is not None and account.balance_micros == 112_345_678
    [adjustment] = [entry for entry in entries if entry.note == "goodwill for incident 12"]
    assert adjustment.adjusted_by == operator.console_user
    checked, differences = reconcile(ledger, AccountJobs(stack.table, client("dynamodb")), [account_id],
                                     pause_seconds=0)
    assert (checked, differences) == (1, [])

    # When the key is reused for another amount, and a new key takes back more than the balance
    reused = request(console, "POST", path, operator, body={**body, "amount_usd": "1"},
                     headers={"idempotency-key": "adj-1"})
    too_much = request(console, "POST", path, operator, body={"amount_usd": "-500", "reason": "chargeback"},
                       headers={"idempotency-key": "adj-2"})
    back = request(console, "POST", path, operator, body={"amount_usd": "-2.345678", "reason": "correction"},
                   headers={"idempotency-key": "adj-3"})

    # Then 422 and 409, nothing moved by either; a correction within the balance applies
    assert (reused[0], reused[1]["error"]["code"]) == (422, "idempotency_key_reused")
    assert (too_much[0], too_much[1]["error"]["code"]) == (409, "balance_would_go_negative")
    assert back[0] == 200 and back[1]["balance_micros"] == 110_000_000
    assert reconcile(ledger, AccountJobs(stack.table, client("dynamodb")), [account_id], pause_seconds=0)[1] == []


@pytest.mark.parametrize(("body", "param"), [
    ({"amount_usd": "5"}, "reason"),
    ({"amount_usd": "5", "reason": "no"}, "reason"),
    ({"amount_usd": "5", "reason": "goodwill\x00 for incident 12"}, "reason"),
    ({"amount_usd": "5", "reason": "goodwill\nfor incident 12"}, "reason"),
    ({"amount_usd": "5", "reason": "\x1b[2Jgoodwill"}, "reason"),
    ({"amount_usd": "0", "reason": "nothing at all"}, "amount_usd"),
    ({"amount_usd": "0.0000001", "reason": "below a micro-dollar"}, "amount_usd"),
    ({"amount_usd": "1000000", "reason": "a typo of zeros"}, "amount_usd"),
    ({"amount_usd": "\u0661\u0662", "reason": "Arabic-Indic twelve"}, "amount_usd"),
    ({"amount_usd": "\uff15", "reason": "full-width five"}, "amount_usd"),
    ({"amount_usd": " 5 ", "reason": "padded five"}, "amount_usd"),
    ({"amount_usd": "1e2", "reason": "an exponent"}, "amount_usd"),
    ({"amount_usd": "+5", "reason": "a plus sign"}, "amount_usd"),
], ids=["no-reason", "short-reason", "nul-in-reason", "newline-in-reason", "escape-in-reason", "zero", "sub-micro",
        "too-large", "arabic-indic-digits", "full-width-digit", "padded", "exponent", "plus"])
def test_an_adjustment_needs_a_printable_reason_and_a_plain_ascii_amount(
        console: APIGatewayHttpResolver, stack: Stack, account_id: str, body: dict[str, Any], param: str) -> None:
    # When an operator sends it, under a fresh key
    status, error, _ = request(console, "POST", f"/operator/accounts/{account_id}/credit", member(account_id,
                                                                                                   "operator"),
                               body=body, headers={"idempotency-key": f"bad-{param}-{len(str(body))}"})

    # Then 400 naming the field, in OpenAI's error shape, and the balance and the ledger are untouched
    assert (status, error["error"]["type"], error["error"]["param"]) == (400, "invalid_request_error", param)
    account, entries = LedgerRepository(stack.table, client("dynamodb")).account_with_ledger(account_id)
    assert account is not None and account.balance_micros == 100_000_000
    assert [entry for entry in entries if entry.adjusted_by] == []


@pytest.mark.parametrize("headers", [{}, {"idempotency-key": ""}], ids=["no-header", "empty-header"])
def test_an_adjustment_without_an_idempotency_key_is_a_400_naming_the_header_and_moves_nothing(
        console: APIGatewayHttpResolver, stack: Stack, account_id: str, headers: dict[str, str]) -> None:
    # Given an operator and an account with $100
    operator = member(new_account_id(), "operator")
    body = {"amount_usd": "5.00", "reason": "double-clicked goodwill"}

    # When the same adjustment is sent twice without a key (a double click, a client that forgot it)
    answers = [request(console, "POST", f"/operator/accounts/{account_id}/credit", operator, body=body,
                       headers=headers) for _ in range(2)]

    # Then each is 400 invalid_idempotency_key naming the header, and nothing was credited
    for status, error, _ in answers:
        assert status == 400
        assert error == {"error": {"message": error["error"]["message"], "type": "invalid_request_error",
                                   "param": "Idempotency-Key", "code": "invalid_idempotency_key"}}
        assert "Idempotency-Key" in error["error"]["message"]
    account, entries = LedgerRepository(stack.table, client("dynamodb")).account_with_ledger(account_id)
    assert account is not None and account.balance_micros == 100_000_000
    assert [entry for entry in entries if entry.note == "double-clicked goodwill"] == []


def test_an_adjustment_of_an_unknown_account_is_404_and_writes_nothing(console: APIGatewayHttpResolver,
                                                                       stack: Stack) -> None:
    missing = new_account_id()

    status, error, _ = request(console, "POST", f"/operator/accounts/{missing}/credit", member(missing, "operator"),
                               body={"amount_usd": "5", "reason": "welcome"}, headers={"idempotency-key": "k"})

    assert (status, error["error"]["code"]) == (404, "account_not_found")
    assert LedgerRepository(stack.table, client("dynamodb")).account_with_ledger(missing) == (None, [])


# ---- operator: accounts, margin, upstreams ---------------------------------------------------------------------


def _job(account_id: str, **fields: Any) -> JobRecord:
    now = now_epoch()
    values: dict[str, Any] = {"job_id": new_job_id(), "account_id": account_id, "kind": "edit",
                              "status": "succeeded", "model": "gpt-image-2",
                              "request": {"model": "gpt-image-2", "prompt": "dusk", "n": 1},
                              "created_at": now, "expires_at": now + 3600}
    return JobRecord(**(values | fields))


def test_the_operator_lists_accounts_with_balance_and_spend(console: APIGatewayHttpResolver, stack: Stack,
                                                            account_id: str) -> None:
    # Given an account whose job was charged $0.25 today
    JobRepository(stack.table, client("dynamodb")).create(_job(account_id, usage={"cost_micros": 250_000,
                                                                                  "images": 1}))
    operator = member(account_id, "operator")

    # When the operator pages through the accounts
    found: dict[str, Any] = {}
    cursor: str | None = None
    for _ in range(50):
        status, page, _ = request(console, "GET", "/operator/accounts", operator,
                                  query={"cursor": cursor} if cursor else None)
        assert status == 200
        found |= {row["id"]: row for row in page["data"]}
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break

    # Then the account is there with its balance and its spend of 30 days
    row = found[account_id]
    assert (row["balance_micros"], row["spend_30d_micros"], row["status"]) == (100_000_000, 250_000, "active")
    bad = request(console, "GET", "/operator/accounts", operator, query={"cursor": "not-a-cursor"})
    assert (bad[0], bad[1]["error"]["param"]) == (400, "cursor")


def test_the_operator_sees_margin_by_day_model_and_upstream(console: APIGatewayHttpResolver, stack: Stack,
                                                            account_id: str) -> None:
    # Given a succeeded job charged $0.25 whose upstream reported a cost of $0.10
    JobRepository(stack.table, client("dynamodb")).create(_job(
        account_id, model="gpt-image-1-mini", upstream="margin-test-upstream", upstream_cost_micros=100_000,
        upstream_cost_reported=True, usage={"cost_micros": 250_000, "images": 1}))

    # When the operator asks for today's margin by day
    status, report, _ = request(console, "GET", "/operator/margin", member(account_id, "operator"),
                                query={"group_by": "day"})
    bad = request(console, "GET", "/operator/margin", member(account_id, "operator"),
                  query={"since": "2026-01-01", "until": "2026-12-31"})

    # Then its row shows revenue, cost and margin, and a range over 92 days is refused
    assert status == 200 and report["group_by"] == ["day"]
    [row] = [row for row in report["data"] if row["upstream"] == "margin-test-upstream"]
    assert (row["revenue_micros"], row["upstream_cost_micros"], row["margin_micros"], row["jobs"]) == (
        250_000, 100_000, 150_000, 1)
    assert row["date"] is not None and row["model"] == "gpt-image-1-mini"
    assert (bad[0], bad[1]["error"]["param"]) == (400, "since")


def test_the_operator_sees_each_upstreams_breaker_and_the_alarm_links(console: APIGatewayHttpResolver, stack: Stack,
                                                                      account_id: str) -> None:
    # Given the routing document's first upstream with 3 calls in its window, 2 failed, and its breaker tripped
    document = load_routing("default.json")
    name = next(iter(document.models.values()))[0].name
    breakers = BreakerRepository(stack.table, client("dynamodb"))
    breakers.close(name, now=now_epoch())
    for failed, who in ((True, "acct_a"), (True, "acct_b"), (False, "acct_a")):
        breakers.count(name, failed=failed, account=who, now=now_epoch(), window_seconds=60)
    breakers.trip(name, open_until=now_epoch() + 600)

    # When the operator looks at the upstreams
    status, report, _ = request(console, "GET", "/operator/upstreams", member(account_id, "operator"))

    # Then that upstream shows open with the window's counts and rate, every upstream of the document is listed,
    # and each alarm links to the CloudWatch console of the region
    assert status == 200
    upstream = {row["name"]: row for row in report["upstreams"]}[name]
    assert (upstream["state"], upstream["calls"], upstream["failures"], upstream["failure_rate_percent"]) == (
        "open", 3, 2, 66.7)
    assert {row["name"] for row in report["upstreams"]} == {
        route.name for routes in document.models.values() for route in routes}
    assert report["alarms"][0] == {
        "name": ALARMS[0], "url": "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1"
                                  f"#alarmsV2:alarm/{ALARMS[0]}"}

    # When the breaker closes with a fresh window (no calls yet)
    breakers.close(name, now=now_epoch())
    status, report, _ = request(console, "GET", "/operator/upstreams", member(account_id, "operator"))

    # Then it shows closed, with no rate
    upstream = {row["name"]: row for row in report["upstreams"]}[name]
    assert status == 200 and (upstream["state"], upstream["calls"], upstream.get("failure_rate_percent")) == (
        "closed", 0, None)


# ---- webhooks ------------------------------------------------------------------------------------------------------


def test_a_webhook_url_set_shows_a_secret_once_and_rotation_gives_a_new_one_and_the_old_ones_expiry(
        console: APIGatewayHttpResolver, account_id: str) -> None:
    person = member(account_id)

    # Given an account without settings: no URL, no secret
    status, empty, _ = request(console, "GET", "/webhooks", person)
    assert status == 200 and empty.get("url") is None and empty["secrets"] == []

    # When the URL is set, then set again
    status, first, _ = request(console, "PUT", "/webhooks", person, body={"url": "https://example.com/hooks"})
    _, second, _ = request(console, "PUT", "/webhooks", person, body={"url": "https://example.com/v2/hooks"})
    bad = request(console, "PUT", "/webhooks", person, body={"url": "http://example.com/hooks"})

    # Then the first answer carries the account's new secret, the second none; a plain-http URL is refused
    assert status == 200 and first["secret"].startswith("whsec_") and second["secret"] is None
    assert second["url"] == "https://example.com/v2/hooks" and len(second["secrets"]) == 1
    assert (bad[0], bad[1]["error"]["code"]) == (400, "invalid_webhook_url")

    # When the secret is rotated
    status, rotated, _ = request(console, "POST", "/webhooks/rotate_secret", person)

    # Then a new secret is shown once, the old one expires at the end of the window, and the settings show both
    # lifetimes but neither value
    assert status == 200 and rotated["secret"] != first["secret"] and rotated["secret"].startswith("whsec_")
    assert rotated["previous_expires_at"] >= now_epoch() + 23 * 3600
    _, settings, _ = request(console, "GET", "/webhooks", person)
    assert [secret.get("expires_at") for secret in settings["secrets"]] == [None, rotated["previous_expires_at"]]
    assert first["secret"] not in json.dumps(settings) and rotated["secret"] not in json.dumps(settings)

    # When the URL is cleared
    status, cleared, _ = request(console, "PUT", "/webhooks", person, body={"url": None})

    # Then there is none, and the secrets stay
    assert status == 200 and cleared.get("url") is None and len(cleared["secrets"]) == 2


def test_the_first_rotation_has_no_previous_secret(console: APIGatewayHttpResolver, account_id: str) -> None:
    status, rotated, _ = request(console, "POST", "/webhooks/rotate_secret", member(account_id))

    assert status == 200 and rotated["secret"].startswith("whsec_") and rotated.get("previous_expires_at") is None


def test_deliveries_are_listed_from_the_jobs_delivery_logs_newest_first(console: APIGatewayHttpResolver,
                                                                        stack: Stack, account_id: str) -> None:
    # Given two jobs with webhooks and their delivery attempts, and another account's job with one
    jobs, log = JobRepository(stack.table, client("dynamodb")), JobWebhookLog(stack.table, client("dynamodb"))
    hook = JobWebhook(url="https://example.com/hooks", events=["job.succeeded"])
    older, newer = _job(account_id, webhook=hook), _job(account_id, webhook=hook)
    theirs = _job(stack.seed_account(new_account_id()), webhook=hook)
    at = now_epoch()
    for job in (older, newer, theirs):
        jobs.create(job)
    log.record_delivery(older.job_id, DeliveryRecord(event_id="evt_1", type="job.succeeded", attempt=1,
                                                     status_code=500, at=at - 30, outcome="retrying"), keep=20)
    log.record_delivery(older.job_id, DeliveryRecord(event_id="evt_1", type="job.succeeded", attempt=2,
                                                     status_code=200, at=at - 10, outcome="delivered"), keep=20)
    log.record_delivery(newer.job_id, DeliveryRecord(event_id="evt_2", type="job.succeeded", attempt=1,
                                                     error="connect timeout", at=at - 20, outcome="retrying"),
                        keep=20)
    log.record_delivery(theirs.job_id, DeliveryRecord(event_id="evt_3", type="job.succeeded", attempt=1,
                                                      status_code=200, at=at, outcome="delivered"), keep=20)

    # When the member lists the deliveries
    status, listed, _ = request(console, "GET", "/webhooks/deliveries", member(account_id), query={"limit": "2"})

    # Then the account's newest attempts come first, with their outcome, code and job
    assert status == 200
    assert [(d["job_id"], d["event_id"], d["attempt"], d["outcome"], d.get("status_code")) for d in listed["data"]] == [
        (older.job_id, "evt_1", 2, "delivered", 200), (newer.job_id, "evt_2", 1, "retrying", None)]


# ---- a job's images ------------------------------------------------------------------------------------------------


def test_a_jobs_inputs_and_outputs_are_presigned_links_and_another_accounts_job_is_404(
        console: APIGatewayHttpResolver, stack: Stack, account_id: str) -> None:
    # Given a succeeded edit with a stored input, an input given by URL, and an output
    job_id = new_job_id()
    s3 = client("s3")
    for key in (f"inputs/{job_id}/0.png", f"outputs/{job_id}/0.png"):
        s3.put_object(Bucket=stack.bucket, Key=key, Body=png(), ContentType="image/png")
    JobRepository(stack.table, client("dynamodb")).create(_job(
        account_id, job_id=job_id,
        inputs=[StoredInput(key=f"inputs/{job_id}/0.png", content_type="image/png", width=96, height=64),
                StoredInput(url="https://example.com/photo.jpg")],
        outputs=[StoredOutput(key=f"outputs/{job_id}/0.png", content_type="image/png", bytes=len(png()), width=96,
                              height=64)]))

    # When its owner and another account ask for its images
    status, images, _ = request(console, "GET", f"/jobs/{job_id}/images", member(account_id))
    other = request(console, "GET", f"/jobs/{job_id}/images", member(stack.seed_account(new_account_id())))

    # Then the owner gets links valid 15 minutes that fetch the images; the other account gets 404
    assert status == 200 and images["expires_in"] == 900
    stored, by_url = images["inputs"]
    assert (stored["source"], stored["role"], stored["width"]) == ("stored", "image", 96)
    assert f"inputs/{job_id}/0.png" in stored["url"] and _lifetime(stored["url"]) == 900
    assert (by_url["url"], by_url["source"], by_url["role"]) == ("https://example.com/photo.jpg", "url", "image")
    [output] = images["outputs"]
    assert output["role"] == "output" and f"outputs/{job_id}/0.png" in output["url"]
    assert (other[0], other[1]["error"]["code"]) == (404, "job_not_found")


def _lifetime(url: str) -> int:
    """How long a presigned link works, from its query (SigV4's X-Amz-Expires, or SigV2's Expires time)."""
    query = parse_qs(urlparse(url).query)
    if "X-Amz-Expires" in query:
        return int(query["X-Amz-Expires"][0])
    return round((int(query["Expires"][0]) - now_epoch()) / 10) * 10


def test_an_account_made_before_the_directory_is_listed_once_the_admin_tool_indexes_it(
        console: APIGatewayHttpResolver, stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    # Given an account item written as the code before the directory wrote it (no directory entry)
    from retouch.admin.cli import main as admin
    from retouch.data.items import to_item

    old = new_account_id()
    client("dynamodb").put_item(TableName=stack.table, Item=to_item({
        "pk": f"ACCOUNT#{old}", "sk": "ACCOUNT", "account_id": old, "name": "old", "created_at": 1_600_000_000}))
    operator = member(old, "operator")

    def listed() -> set[str]:
        found: set[str] = set()
        cursor: str | None = None
        while True:
            _, page, _ = request(console, "GET", "/operator/accounts", operator,
                                 query={"cursor": cursor} if cursor else None)
            found |= {row["id"] for row in page["data"]}
            cursor = page["next_cursor"]
            if not page["has_more"]:
                return found

    assert old not in listed()

    # When the operator runs the admin tool's index-accounts (twice: it is idempotent)
    assert admin(["--table", stack.table, "index-accounts"]) == 0
    assert admin(["--table", stack.table, "index-accounts"]) == 0

    # Then the account is listed, once
    assert "accounts in the account directory" in capsys.readouterr().out
    assert old in listed()
