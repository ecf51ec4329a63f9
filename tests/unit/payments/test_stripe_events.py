"""Which Stripe event does what (payments/stripe_events.py), on the in-memory books: verified first, credited once
per payment whichever events name it, reversals in any order, receipts before or after the credit."""

from __future__ import annotations

import json
from typing import Any

import pytest

from retouch.errors import InvalidRequest, PaymentNotRecorded, PaymentsNotEnabled, WebhookSignatureInvalid
from retouch.payments.stripe_events import StripeEventsDeps, receive_stripe_webhook
from tests.fakes.payments import FakeGateway, FakePaymentBooks, FakeRechargeStore, Notices

ACCOUNT = "acct_unit000000000000000"
VALID = FakeGateway().valid_signature


def deps(balance: int = 0, *, configured: bool = True) -> StripeEventsDeps:
    return StripeEventsDeps(gateway=FakeGateway(configured=configured),
                            books=FakePaymentBooks(balances={ACCOUNT: balance}), currency="usd",
                            recharge=FakeRechargeStore(), notify=Notices())


def event(kind: str, obj: dict[str, Any], event_id: str | None = None) -> bytes:
    return json.dumps({"id": event_id or f"evt_{kind}_{id(obj)}", "type": kind, "data": {"object": obj}}).encode()


def completed(payment: str = "pi_1", cents: int = 2500, **fields: Any) -> dict[str, Any]:
    return {"id": "cs_1", "object": "checkout.session", "mode": "payment", "payment_status": "paid",
            "payment_intent": payment, "amount_total": cents, "currency": "usd", "client_reference_id": ACCOUNT,
            "metadata": {"retouch_account_id": ACCOUNT, "retouch_purpose": "top_up"}} | fields


def intent(payment: str = "pi_1", cents: int = 2500) -> dict[str, Any]:
    return {"id": payment, "object": "payment_intent", "amount_received": cents, "currency": "usd",
            "metadata": {"retouch_account_id": ACCOUNT, "retouch_purpose": "top_up"}}


def balance(d: StripeEventsDeps) -> int:
    assert isinstance(d.books, FakePaymentBooks)
    return d.books.balances[ACCOUNT]


def test_a_completed_checkout_and_the_intents_success_credit_the_payment_once() -> None:
    d = deps()
    outcomes = [receive_stripe_webhook(d, body, VALID) for body in (
        event("payment_intent.succeeded", intent(), "evt_a"), event("checkout.session.completed", completed(), "evt_b"),
        event("checkout.session.completed", completed(), "evt_b"))]
    assert outcomes == ["credited", "duplicate", "duplicate"]
    assert balance(d) == 25_000_000


def test_unpaid_setup_foreign_and_other_currency_checkouts_credit_nothing() -> None:
    d = deps()
    for obj in (completed(payment_status="unpaid"), completed(mode="setup"),
                completed(metadata={}, client_reference_id=None), completed(currency="eur")):
        assert receive_stripe_webhook(d, event("checkout.session.completed", obj), VALID) == "ignored"
    assert receive_stripe_webhook(d, event("customer.created", {"id": "cus_1"}), VALID) == "ignored"
    assert balance(d) == 0


def test_a_signature_that_does_not_verify_is_refused_before_anything_is_read() -> None:
    d = deps()
    with pytest.raises(WebhookSignatureInvalid):
        receive_stripe_webhook(d, event("checkout.session.completed", completed()), "t=1,v1=forged")
    with pytest.raises(WebhookSignatureInvalid):
        receive_stripe_webhook(d, event("checkout.session.completed", completed()), None)
    assert balance(d) == 0


def test_without_stripe_keys_every_event_is_refused_503_and_nothing_is_credited() -> None:
    # Given a deployment whose Stripe secret still holds the template's placeholders
    d = deps(configured=False)

    # When a completed checkout arrives, even with a signature the fake would accept
    with pytest.raises(PaymentsNotEnabled) as refused:
        receive_stripe_webhook(d, event("checkout.session.completed", completed()), VALID)

    # Then 503 payments_not_enabled, and no credit
    assert (refused.value.status_code, refused.value.code) == (503, "payments_not_enabled")
    assert balance(d) == 0


def test_a_verified_payload_that_is_not_an_event_is_a_400() -> None:
    with pytest.raises(InvalidRequest):
        receive_stripe_webhook(deps(), json.dumps({"id": "evt_1"}).encode(), VALID)


def test_refund_events_out_of_order_take_back_the_cumulative_total_once() -> None:
    d = deps()
    receive_stripe_webhook(d, event("checkout.session.completed", completed(cents=1000)), VALID)
    charge = {"id": "ch_1", "object": "charge", "payment_intent": "pi_1"}
    later = event("charge.refunded", charge | {"amount_refunded": 700}, "evt_r2")
    earlier = event("charge.refunded", charge | {"amount_refunded": 300}, "evt_r1")
    assert [receive_stripe_webhook(d, body, VALID) for body in (later, earlier, later)] == [
        "reversed", "duplicate", "duplicate"]
    assert balance(d) == 3_000_000


def test_a_dispute_takes_back_at_most_what_is_left_and_may_leave_arrears() -> None:
    d = deps(balance=-9_000_000)  # spent $9 more than it had before this top-up landed
    receive_stripe_webhook(d, event("checkout.session.completed", completed(cents=1000)), VALID)
    dispute = event("charge.dispute.created", {"id": "dp_1", "amount": 5000, "payment_intent": "pi_1"})
    assert receive_stripe_webhook(d, dispute, VALID) == "reversed"
    assert balance(d) == -9_000_000  # only the $10 credited went back


def test_a_refund_of_a_payment_not_credited_yet_is_a_409_for_stripe_to_retry() -> None:
    with pytest.raises(PaymentNotRecorded):
        receive_stripe_webhook(deps(), event("charge.refunded", {"id": "ch_1", "payment_intent": "pi_9",
                                                                 "amount_refunded": 100}), VALID)


def test_a_receipt_before_the_credit_is_kept_on_the_payment() -> None:
    d = deps()
    charge = {"id": "ch_1", "payment_intent": "pi_1", "receipt_url": "https://pay.stripe.com/receipts/x"}
    assert receive_stripe_webhook(d, event("charge.succeeded", charge), VALID) == "receipt"
    receive_stripe_webhook(d, event("checkout.session.completed", completed()), VALID)
    payment = d.books.get_payment("pi_1")
    assert payment is not None and payment.receipt_url == charge["receipt_url"] and payment.status == "succeeded"
