"""In-memory PaymentBooks and PaymentGateway (see retouch.payments.ports): the books keep the data layer's keys (one
credit per payment id and per event id; a refund's entry keyed by the cumulative amount, a dispute's by its id)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from retouch.models.payments import (
    CheckoutRequest,
    CheckoutSession,
    OffSessionPayment,
    PaymentRecord,
    RechargeSettingsRecord,
)
from retouch.payments.ports import (
    Applied,
    GatewayFailed,
    GatewayNotConfigured,
    PaymentCredit,
    PaymentDeclined,
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
    """Checkout Sessions recorded; an event is 'verified' when its header is exactly `valid_signature`. Without keys
    (`configured=False`: the Stripe secret still holds the template's placeholders) every call is GatewayNotConfigured,
    as StripeGateway's."""

    valid_signature: str = "t=1,v1=valid"
    configured: bool = True
    fail: bool = False
    decline: bool = False
    sessions: list[CheckoutRequest] = field(default_factory=list)
    intents: dict[str, OffSessionPayment] = field(default_factory=dict)  # by claim: Stripe's idempotency key

    def ensure_configured(self) -> None:
        if not self.configured:
            raise GatewayNotConfigured("the fake has no keys")

    def create_checkout_session(self, request: CheckoutRequest) -> CheckoutSession:
        self.ensure_configured()
        if self.fail:
            raise GatewayFailed("Stripe said no")
        self.sessions.append(request)
        return CheckoutSession(id=f"cs_test_{len(self.sessions)}", url=f"https://checkout.test/{len(self.sessions)}")

    def charge_off_session(self, payment: OffSessionPayment) -> str:
        self.ensure_configured()
        if self.fail:
            raise GatewayFailed("Stripe unreachable")
        if self.decline:
            raise PaymentDeclined("Your card was declined.")
        self.intents.setdefault(payment.claim, payment)
        return f"pi_recharge_{payment.claim}"

    def verified_event(self, payload: bytes, signature_header: str | None) -> dict[str, Any]:
        import json

        self.ensure_configured()
        if signature_header != self.valid_signature:
            raise SignatureRejected("no match")
        event = json.loads(payload)
        assert isinstance(event, dict)
        return event


_books: ports.PaymentBooks = FakePaymentBooks()
_gateway: ports.PaymentGateway = FakeGateway()


@dataclass
class FakeRechargeStore:
    """data/recharge.py's conditions, in memory."""

    settings: dict[str, RechargeSettingsRecord] = field(default_factory=dict)

    def _of(self, account_id: str) -> RechargeSettingsRecord:
        return self.settings.setdefault(account_id, RechargeSettingsRecord(account_id=account_id))

    def get(self, account_id: str) -> RechargeSettingsRecord | None:
        found = self.settings.get(account_id)
        return found.model_copy() if found else None

    def put_choice(self, account_id: str, *, enabled: bool, threshold_micros: int, recharge_to_micros: int,
                   monthly_cap_micros: int) -> None:
        self.settings[account_id] = self._of(account_id).model_copy(update={
            "enabled": enabled, "threshold_micros": threshold_micros, "recharge_to_micros": recharge_to_micros,
            "monthly_cap_micros": monthly_cap_micros, "disabled_reason": None})

    def save_card(self, account_id: str, customer_id: str, payment_method_id: str) -> None:
        self.settings[account_id] = self._of(account_id).model_copy(
            update={"customer_id": customer_id, "payment_method_id": payment_method_id})

    def claim_crossing(self, account_id: str, balance_micros: int, claim: str, now: int) -> bool:
        current = self._of(account_id)
        if not current.enabled or current.threshold_micros <= balance_micros or current.claim is not None:
            return False
        self.settings[account_id] = current.model_copy(update={"claim": claim, "claimed_at": now})
        return True

    def start(self, account_id: str, claim: str, amount_minor: int, month: str, month_charged_micros: int) -> bool:
        current = self._of(account_id)
        if current.claim != claim or current.started is not None:
            return False
        self.settings[account_id] = current.model_copy(update={
            "started": claim, "started_amount_minor": amount_minor, "month": month,
            "month_charged_micros": month_charged_micros})
        return True

    def disable(self, account_id: str, claim: str | None, reason: str) -> bool:
        current = self._of(account_id)
        if claim is not None and current.claim != claim:
            return False
        self.settings[account_id] = current.model_copy(update={
            "enabled": False, "disabled_reason": reason, "claim": None, "claimed_at": None, "started": None,
            "started_amount_minor": None})
        return True

    def release_claim(self, account_id: str, claim: str) -> bool:
        current = self._of(account_id)
        if current.claim != claim:
            return False
        self.settings[account_id] = current.model_copy(update={
            "claim": None, "claimed_at": None, "started": None, "started_amount_minor": None})
        return True


    def put_low_balance(self, account_id: str, micros: int | None, email: str | None) -> None:
        self.settings[account_id] = self._of(account_id).model_copy(
            update={"low_balance_micros": micros, "alert_email": email, "low_alerted": False})

    def claim_low_alert(self, account_id: str, balance_micros: int) -> bool:
        current = self._of(account_id)
        if current.low_balance_micros is None or current.low_balance_micros <= balance_micros or current.low_alerted:
            return False
        self.settings[account_id] = current.model_copy(update={"low_alerted": True})
        return True

    def rearm_low_alert(self, account_id: str, balance_micros: int) -> bool:
        current = self._of(account_id)
        if current.low_balance_micros is None or current.low_balance_micros > balance_micros or not current.low_alerted:
            return False
        self.settings[account_id] = current.model_copy(update={"low_alerted": False})
        return True


@dataclass
class Notices:
    """A RechargeNotice that remembers (account_id, reason)."""

    sent: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, account_id: str, reason: str, detail: str) -> None:
        self.sent.append((account_id, reason))


_recharge: ports.RechargeStore = FakeRechargeStore()


@dataclass
class FakeEmail:
    """An EmailSender that keeps what it was asked to send."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)

    def send(self, to: str, subject: str, text: str) -> None:
        self.sent.append((to, subject, text))


_email: ports.EmailSender = FakeEmail()
