"""In-memory PaymentBooks and PaymentGateway (see retouch.payments.ports): the books keep the data layer's keys (one
credit per payment id and per event id; a refund's entry keyed by the cumulative amount, a dispute's by its id)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from retouch.models.payments import CheckoutRequest, CheckoutSession, PaymentRecord
from retouch.payments.ports import (
    Applied,
    GatewayFailed,
    PaymentCredit,
    PaymentNotCredited,
    PaymentReceipt,
    PaymentReversal,
    SignatureRejected,
)

if TYPE_CHECKING:
    from retouch.payments import ports


@dataclass
class FakePaymentBooks:
    balances: dict[str, int] = field(default_factory=dict)
    payments: dict[str, PaymentRecord] = field(default_factory=dict)
    events: set[str] = field(default_factory=set)
    entries: dict[str, int] = field(default_factory=dict)  # entry id -> amount

    def credit_payment(self, credit: PaymentCredit) -> Applied:
        payment = self.payments.get(credit.payment_id)
        if credit.event_id in self.events or (payment is not None and payment.credited_at_ms is not None):
            return Applied(moved=0)
        if credit.account_id not in self.balances:
            raise LookupError(credit.account_id)
        base = payment or PaymentRecord(payment_id=credit.payment_id)
        self.payments[credit.payment_id] = base.model_copy(update={
            "account_id": credit.account_id, "amount_micros": credit.amount_micros, "purpose": credit.purpose,
            "currency": credit.currency, "amount_minor": credit.amount_minor, "credited_at_ms": credit.at_ms,
            "checkout_session_id": credit.checkout_session_id, "credit_event_id": credit.event_id})
        self.events.add(credit.event_id)
        self.entries[f"top_up_{credit.payment_id}"] = credit.amount_micros
        self.balances[credit.account_id] += credit.amount_micros
        return Applied(moved=credit.amount_micros)

    def reverse_payment(self, reversal: PaymentReversal) -> Applied:
        payment = self.payments.get(reversal.payment_id)
        if payment is None or payment.credited_at_ms is None or payment.account_id is None:
            raise PaymentNotCredited(reversal.payment_id)
        room = payment.amount_micros - payment.reversed_micros
        if reversal.kind == "refund":
            new = min(reversal.micros, payment.refunded_micros + room)
            taken, entry = new - payment.refunded_micros, f"refund_{reversal.payment_id}_{new}"
            update = {"refunded_micros": new}
        else:
            taken, entry = min(reversal.micros, room), f"dispute_{reversal.reversal_id}"
            update = {"disputed_micros": payment.disputed_micros + taken}
        if taken <= 0 or entry in self.entries or reversal.event_id in self.events:
            return Applied(moved=0)
        self.payments[reversal.payment_id] = payment.model_copy(update=update)
        self.events.add(reversal.event_id)
        self.entries[entry] = -taken
        self.balances[payment.account_id] -= taken
        return Applied(moved=taken, balance_after_micros=self.balances[payment.account_id])

    def record_receipt(self, receipt: PaymentReceipt) -> None:
        payment = self.payments.get(receipt.payment_id) or PaymentRecord(payment_id=receipt.payment_id)
        self.payments[receipt.payment_id] = payment.model_copy(
            update={"charge_id": receipt.charge_id, "receipt_url": receipt.receipt_url})

    def get_payment(self, payment_id: str) -> PaymentRecord | None:
        return self.payments.get(payment_id)

    def payments_page(self, account_id: str, *, limit: int,
                      cursor: str | None = None) -> tuple[list[PaymentRecord], str | None]:
        if cursor is not None:
            raise ValueError("the fake has one page")
        mine = [p for p in self.payments.values() if p.account_id == account_id and p.credited_at_ms is not None]
        return sorted(mine, key=lambda p: -(p.credited_at_ms or 0))[:limit], None


@dataclass
class FakeGateway:
    """Checkout Sessions recorded; an event is 'verified' when its header is exactly `valid_signature`."""

    valid_signature: str = "t=1,v1=valid"
    fail: bool = False
    sessions: list[CheckoutRequest] = field(default_factory=list)

    def create_checkout_session(self, request: CheckoutRequest) -> CheckoutSession:
        if self.fail:
            raise GatewayFailed("Stripe said no")
        self.sessions.append(request)
        return CheckoutSession(id=f"cs_test_{len(self.sessions)}", url=f"https://checkout.test/{len(self.sessions)}")

    def verified_event(self, payload: bytes, signature_header: str | None) -> dict[str, Any]:
        import json

        if signature_header != self.valid_signature:
            raise SignatureRejected("no match")
        event = json.loads(payload)
        assert isinstance(event, dict)
        return event


_books: ports.PaymentBooks = FakePaymentBooks()
_gateway: ports.PaymentGateway = FakeGateway()
