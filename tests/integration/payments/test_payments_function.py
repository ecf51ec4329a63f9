"""The payments function's handler on moto, with Stripe's library calling the Stripe stand-in: a top-up makes a
Checkout Session; Stripe's events are verified by the library (forged, altered and replayed ones refused 400 with
nothing changed) and credit the ledger once; payments are listed with their receipts. With the Stripe secret as the
template ships it (placeholders), payments are not enabled: every Stripe route answers 503, nothing is verified."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from local.stand_ins.stripe_api import StripeStandIn, sign
from retouch.data.payments import PaymentRepository
from tests.builders import http_event, json_event, load_event
from tests.integration.core.aws_stack import Stack, client, json_body

PAYMENTS = "PaymentsFunction"


def new_account(stack: Stack) -> str:
    return stack.seed_account(f"acct_{uuid.uuid4().hex[:20]}", credit_micros=1_000_000)


def balance(stack: Stack, account_id: str) -> int:
    account = PaymentRepository(stack.table, client("dynamodb")).get_account(account_id)
    assert account is not None
    return account.balance_micros


def webhook(stack: Stack, body: bytes, signature: str) -> dict[str, Any]:
    event = load_event("stripe_webhook.json")
    event["body"] = body.decode()
    event["headers"]["stripe-signature"] = signature
    return stack.invoke(PAYMENTS, event)


def completed(account_id: str, payment_id: str, cents: int, event_id: str | None = None) -> bytes:
    event = json.loads(load_event("stripe_webhook.json")["body"])
    event["id"] = event_id or f"evt_{uuid.uuid4().hex}"
    session = event["data"]["object"]
    session.update(amount_total=cents, payment_intent=payment_id, client_reference_id=account_id,
                   metadata={"retouch_account_id": account_id, "retouch_purpose": "top_up"})
    return json.dumps(event).encode()


def test_a_top_up_answers_a_checkout_page_for_the_amount(stack: Stack, stripe_stand_in: StripeStandIn) -> None:
    account_id = new_account(stack)
    response = stack.invoke(PAYMENTS, json_event("create_top_up.json", {"amount_usd": "25.00"},
                                                 account_id=account_id))
    assert response["statusCode"] == 200, response["body"]
    body = json_body(response)
    assert body["object"] == "billing.top_up" and body["amount_micros"] == 25_000_000
    assert body["url"].startswith(stripe_stand_in.origin + "/checkout/cs_test_")
    page = httpx.get(body["url"])
    assert page.status_code == 200 and "25.00 USD" in page.text
    assert balance(stack, account_id) == 1_000_000  # nothing credited before Stripe says it was paid


def test_a_top_up_outside_the_operators_range_or_finer_than_cents_is_refused(stack: Stack) -> None:
    account_id = new_account(stack)
    for amount, code in (("1.00", "invalid_amount"), ("100000", "invalid_amount"), ("10.001", "invalid_value")):
        response = stack.invoke(PAYMENTS, json_event("create_top_up.json", {"amount_usd": amount},
                                                     account_id=account_id))
        assert response["statusCode"] == 400, amount
        assert json_body(response)["error"]["code"] == code


def test_a_signed_completion_credits_once_and_lists_the_payment(stack: Stack,
                                                                stripe_stand_in: StripeStandIn) -> None:
    account_id = new_account(stack)
    payment_id = f"pi_{uuid.uuid4().hex}"
    body = completed(account_id, payment_id, 2500)
    now = int(time.time())

    first = webhook(stack, body, sign(body, stripe_stand_in.webhook_secret, now))
    again = webhook(stack, body, sign(body, stripe_stand_in.webhook_secret, now + 1))

    assert (first["statusCode"], json_body(first)["outcome"]) == (200, "credited")
    assert (again["statusCode"], json_body(again)["outcome"]) == (200, "duplicate")
    assert balance(stack, account_id) == 26_000_000
    listed = json_body(stack.invoke(PAYMENTS, http_event("list_payments.json", account_id=account_id)))
    assert [(p["id"], p["amount_micros"], p["status"]) for p in listed["data"]] == [(payment_id, 25_000_000,
                                                                                     "succeeded")]


def test_forged_altered_and_replayed_signatures_are_refused_and_change_nothing(
        stack: Stack, stripe_stand_in: StripeStandIn) -> None:
    account_id = new_account(stack)
    body = completed(account_id, f"pi_{uuid.uuid4().hex}", 2500)
    now = int(time.time())
    forged = sign(body, "whsec_not_the_secret", now)
    altered = sign(completed(account_id, f"pi_{uuid.uuid4().hex}", 100), stripe_stand_in.webhook_secret, now)
    replayed = sign(body, stripe_stand_in.webhook_secret, now - 600)  # older than the 5-minute tolerance

    for signature in (forged, altered, replayed, "", "t=garbage"):
        response = webhook(stack, body, signature)
        assert response["statusCode"] == 400, signature
        assert json_body(response)["error"]["code"] == "invalid_signature"
    assert balance(stack, account_id) == 1_000_000


def test_a_refund_before_its_credit_is_answered_409_so_stripe_delivers_it_again(
        stack: Stack, stripe_stand_in: StripeStandIn) -> None:
    refund = json.dumps({"id": f"evt_{uuid.uuid4().hex}", "type": "charge.refunded", "data": {"object": {
        "id": "ch_1", "object": "charge", "payment_intent": f"pi_{uuid.uuid4().hex}", "amount_refunded": 100}}}
    ).encode()
    response = webhook(stack, refund, sign(refund, stripe_stand_in.webhook_secret, int(time.time())))
    assert response["statusCode"] == 409
    assert json_body(response)["error"]["code"] == "payment_not_recorded"


def route_event(sample: str, method: str, path: str, account_id: str, body: dict[str, Any] | None = None
                ) -> dict[str, Any]:
    event = json_event(sample, body, account_id=account_id) if body is not None else http_event(
        sample, account_id=account_id)
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {path}"
    event["requestContext"]["http"]["method"] = method
    return event


def test_the_balance_alert_is_set_read_and_turned_off(stack: Stack) -> None:
    account_id = new_account(stack)
    for body in ({"balance_low_usd": "5.00", "email": "ops@customer.test"}, {"balance_low_usd": None}):
        put = stack.invoke(PAYMENTS, route_event("create_top_up.json", "PUT", "/v1/billing/alerts", account_id, body))
        got = stack.invoke(PAYMENTS, route_event("list_payments.json", "GET", "/v1/billing/alerts", account_id))
        assert (put["statusCode"], got["statusCode"]) == (200, 200), put["body"]
        assert json_body(got)["balance_low_usd"] == (5.0 if body["balance_low_usd"] else None)


@pytest.fixture
def unset_stripe(stack: Stack) -> Iterator[Stack]:
    """The payments function as deployed before the operator set the Stripe secret: it holds the template's own
    SecretString (placeholders), read from template.yaml."""
    shipped = stack.template.resources["StripeSecret"]["Properties"]["SecretString"]
    assert "replace-me" in shipped
    arn = client("secretsmanager").create_secret(Name=f"stripe-unset-{uuid.uuid4().hex}", SecretString=shipped)["ARN"]
    with stack.cold_started_with(PAYMENTS, {"RETOUCH_STRIPE_SECRET_ARN": arn}) as cold:
        yield cold


def assert_payments_not_enabled(response: dict[str, Any]) -> None:
    assert response["statusCode"] == 503, response["body"]
    error = json_body(response)["error"]
    assert (error["type"], error["code"]) == ("server_error", "payments_not_enabled")
    assert set(error) == {"message", "type", "param", "code"}


def test_a_webhook_signed_with_the_templates_placeholder_secret_is_refused_503_and_credits_nothing(
        unset_stripe: Stack) -> None:
    # Given the Stripe secret as the template ships it, and a completion forged with its well-known value
    account_id = new_account(unset_stripe)
    payment_id = f"pi_{uuid.uuid4().hex}"
    body = completed(account_id, payment_id, 500_000)

    # When it is sent to the webhook
    response = webhook(unset_stripe, body, sign(body, "replace-me", int(time.time())))

    # Then 503 payments_not_enabled, and neither the balance nor the payments moved
    assert_payments_not_enabled(response)
    assert balance(unset_stripe, account_id) == 1_000_000
    assert PaymentRepository(unset_stripe.table, client("dynamodb")).get_payment(payment_id) is None


def test_a_top_up_and_turning_auto_recharge_on_are_503_without_stripe_keys(unset_stripe: Stack) -> None:
    # Given the Stripe secret as the template ships it
    account_id = new_account(unset_stripe)

    # When the customer asks for a top-up, and to turn auto-recharge on
    top_up = unset_stripe.invoke(PAYMENTS, json_event("create_top_up.json", {"amount_usd": "25.00"},
                                                      account_id=account_id))
    recharge = unset_stripe.invoke(PAYMENTS, route_event(
        "create_top_up.json", "PUT", "/v1/billing/auto_recharge", account_id,
        {"enabled": True, "threshold_usd": "5.00", "recharge_to_usd": "25.00", "monthly_cap_usd": "100.00"}))

    # Then both are 503 payments_not_enabled; reading the account's payments still works
    assert_payments_not_enabled(top_up)
    assert_payments_not_enabled(recharge)
    listed = unset_stripe.invoke(PAYMENTS, http_event("list_payments.json", account_id=account_id))
    assert listed["statusCode"] == 200 and json_body(listed)["data"] == []
