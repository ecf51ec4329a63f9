"""Stripe's webhook events, verified and turned into moves of the books. Each event is verified by Stripe's library
(payments/stripe_gateway.py) before anything is read from it; then:

| event | move |
| --- | --- |
| `checkout.session.completed` (paid), `checkout.session.async_payment_succeeded` | credit the session's payment |
| `payment_intent.succeeded` (its metadata names a Retouch account) | credit the payment; keep its card if asked |
| `payment_intent.payment_failed` (an auto-recharge) | disable auto-recharge, notify |
| `charge.succeeded`, `charge.updated` | record the charge and its receipt URL on the payment |
| `charge.refunded` | take back what is refunded so far (Stripe reports the cumulative `amount_refunded`) |
| `charge.dispute.created` | take back the disputed amount |
| anything else | acknowledged, ignored |

A paid checkout sends both a `checkout.session.completed` and a `payment_intent.succeeded`; both credit the same
payment id, so whichever lands first credits it and the other finds it credited (data/payments.py). A refund or a
dispute of a payment not yet credited (reordered events) is answered 409, so Stripe delivers it again later.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, ValidationError

from retouch.errors import InvalidRequest, PaymentNotRecorded, PaymentsNotEnabled, WebhookSignatureInvalid
from retouch.observability.metrics import payment_credited, payment_reversed, stripe_signature_refused
from retouch.payments.auto_recharge import RechargeNotice
from retouch.payments.ports import (
    GatewayNotConfigured,
    PaymentBooks,
    PaymentCredit,
    PaymentGateway,
    PaymentNotCredited,
    PaymentReceipt,
    PaymentReversal,
    RechargeStore,
    SignatureRejected,
)
from retouch.payments.top_ups import MICROS_PER_CENT

logger = Logger(child=True)

Outcome = Literal["credited", "reversed", "receipt", "duplicate", "ignored", "recharge_failed"]


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class StripeEvent(_Loose):
    id: str
    type: str
    created: int | None = None
    data: dict[str, Any]

    @property
    def object(self) -> dict[str, Any]:
        found = self.data.get("object")
        return found if isinstance(found, dict) else {}


class _CheckoutSession(_Loose):
    id: str
    mode: str
    payment_status: str | None = None
    payment_intent: str | None = None
    amount_total: int | None = None
    currency: str | None = None
    client_reference_id: str | None = None
    metadata: dict[str, str] = {}


class _PaymentIntent(_Loose):
    id: str
    amount_received: int = 0
    currency: str
    metadata: dict[str, str] = {}
    customer: str | None = None
    payment_method: str | None = None
    last_payment_error: dict[str, Any] | None = None


class _Charge(_Loose):
    id: str
    payment_intent: str | None = None
    receipt_url: str | None = None
    amount_refunded: int = 0


class _Dispute(_Loose):
    id: str
    amount: int
    payment_intent: str | None = None


@dataclass(frozen=True)
class StripeEventsDeps:
    gateway: PaymentGateway
    books: PaymentBooks
    currency: str
    recharge: RechargeStore
    notify: RechargeNotice


def receive_stripe_webhook(deps: StripeEventsDeps, payload: bytes, signature_header: str | None) -> Outcome:
    """Verify, then apply. 400 for a signature that does not verify (nothing read, nothing written); 503 while the
    deployment has no Stripe keys (the template's placeholders verify nothing)."""
    try:
        raw = deps.gateway.verified_event(payload, signature_header)
    except GatewayNotConfigured:
        logger.warning("stripe webhook refused: payments are not configured (the Stripe secret holds placeholders)")
        raise PaymentsNotEnabled("Payments are not enabled on this deployment.") from None
    except SignatureRejected as exc:
        stripe_signature_refused()
        logger.warning("stripe webhook refused: signature", extra={"reason": str(exc)})
        raise WebhookSignatureInvalid("The Stripe-Signature header does not verify this payload.",
                                      param="Stripe-Signature") from None
    try:
        event = StripeEvent.model_validate(raw)
        outcome = apply_event(deps, event)
    except ValidationError as exc:
        raise InvalidRequest(f"Not a Stripe event Retouch understands: {exc.errors()[0]['msg']}") from None
    logger.info("stripe event", extra={"stripe_event_id": event.id, "stripe_event_type": event.type,
                                       "outcome": outcome})
    return outcome


def _now_ms() -> int:
    return int(time.time() * 1000)


def apply_event(deps: StripeEventsDeps, event: StripeEvent) -> Outcome:
    kind = event.type
    if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        session = _CheckoutSession.model_validate(event.object)
        account_id = session.metadata.get("retouch_account_id") or session.client_reference_id
        if session.mode != "payment" or session.payment_status != "paid" or not session.payment_intent \
                or not account_id or session.amount_total is None or session.currency is None:
            return "ignored"  # unpaid (an async method still pending), or not a Retouch checkout
        return _credit(deps, event, account_id=account_id, payment_id=session.payment_intent,
                       amount_minor=session.amount_total, currency=session.currency,
                       purpose=session.metadata.get("retouch_purpose"), checkout_session_id=session.id)
    if kind == "payment_intent.succeeded":
        intent = _PaymentIntent.model_validate(event.object)
        account_id = intent.metadata.get("retouch_account_id")
        if not account_id:
            return "ignored"
        if intent.metadata.get("retouch_save_card") == "true" and intent.customer and intent.payment_method:
            deps.recharge.save_card(account_id, intent.customer, intent.payment_method)
        return _credit(deps, event, account_id=account_id, payment_id=intent.id, amount_minor=intent.amount_received,
                       currency=intent.currency, purpose=intent.metadata.get("retouch_purpose"))
    if kind == "payment_intent.payment_failed":
        intent = _PaymentIntent.model_validate(event.object)
        account_id, claim = intent.metadata.get("retouch_account_id"), intent.metadata.get("retouch_claim")
        if intent.metadata.get("retouch_purpose") != "auto_recharge" or not account_id or not claim:
            return "ignored"
        if deps.recharge.disable(account_id, claim, "payment_failed"):
            deps.notify(account_id, "payment_failed", str((intent.last_payment_error or {}).get("message", "")))
            return "recharge_failed"
        return "duplicate"
    if kind in ("charge.succeeded", "charge.updated"):
        charge = _Charge.model_validate(event.object)
        if not charge.payment_intent:
            return "ignored"
        deps.books.record_receipt(PaymentReceipt(payment_id=charge.payment_intent, charge_id=charge.id,
                                                 receipt_url=charge.receipt_url))
        return "receipt"
    if kind == "charge.refunded":
        charge = _Charge.model_validate(event.object)
        if not charge.payment_intent:
            return "ignored"
        return _reverse(deps, PaymentReversal(
            payment_id=charge.payment_intent, kind="refund", reversal_id=charge.id,
            micros=charge.amount_refunded * MICROS_PER_CENT, event_id=event.id, at_ms=_now_ms()))
    if kind == "charge.dispute.created":
        dispute = _Dispute.model_validate(event.object)
        if not dispute.payment_intent:
            return "ignored"
        return _reverse(deps, PaymentReversal(
            payment_id=dispute.payment_intent, kind="dispute", reversal_id=dispute.id,
            micros=dispute.amount * MICROS_PER_CENT, event_id=event.id, at_ms=_now_ms()))
    return "ignored"


def _credit(deps: StripeEventsDeps, event: StripeEvent, *, account_id: str, payment_id: str, amount_minor: int,
            currency: str, purpose: str | None, checkout_session_id: str | None = None) -> Outcome:
    if currency.lower() != deps.currency:
        # Retouch's sessions are all in the configured currency: anything else is not one of them; log it loudly.
        logger.error("stripe payment in another currency: not credited",
                     extra={"payment_id": payment_id, "currency": currency, "account_id": account_id})
        return "ignored"
    applied = deps.books.credit_payment(PaymentCredit(
        account_id=account_id, payment_id=payment_id, amount_micros=amount_minor * MICROS_PER_CENT,
        amount_minor=amount_minor, currency=currency.lower(),
        purpose="auto_recharge" if purpose == "auto_recharge" else "top_up",
        event_id=event.id, at_ms=_now_ms(), checkout_session_id=checkout_session_id))
    if not applied.moved:
        return "duplicate"
    payment_credited(applied.moved)
    logger.info("payment credited", extra={"payment_id": payment_id, "account_id": account_id,
                                           "amount_micros": applied.moved})
    return "credited"


def _reverse(deps: StripeEventsDeps, reversal: PaymentReversal) -> Outcome:
    try:
        applied = deps.books.reverse_payment(reversal)
    except PaymentNotCredited:
        raise PaymentNotRecorded(f"Payment {reversal.payment_id} is not credited yet; deliver this event again "
                                 "later.") from None
    if not applied.moved:
        return "duplicate"
    payment_reversed(applied.moved, balance_after_micros=applied.balance_after_micros)
    log = logger.warning if (applied.balance_after_micros or 0) < 0 else logger.info
    log("payment reversed", extra={"payment_id": reversal.payment_id, "kind": reversal.kind,
                                   "taken_micros": applied.moved,
                                   "balance_after_micros": applied.balance_after_micros,
                                   "in_arrears": (applied.balance_after_micros or 0) < 0})
    return "reversed"
