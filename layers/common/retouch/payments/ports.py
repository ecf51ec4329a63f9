"""What the payments domain asks of its collaborators, in its own vocabulary: typed intents for the books, and the
payment service (Stripe) behind one small interface. Adapters: data/payments.py (DynamoDB), payments/stripe_gateway.py
(Stripe's library)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from retouch.models.account_records import AccountRecord, LedgerEntry
from retouch.models.payments import (
    CheckoutRequest,
    CheckoutSession,
    OffSessionPayment,
    PaymentPurpose,
    PaymentRecord,
    RechargeSettingsRecord,
)
from retouch.models.webhooks import AccountWebhookSettings, WebhookMessage


@dataclass(frozen=True)
class PaymentCredit:
    """Credit `amount_micros` to `account_id` for the payment `payment_id`, at most once per payment and per event."""

    account_id: str
    payment_id: str
    amount_micros: int
    amount_minor: int
    currency: str
    purpose: PaymentPurpose
    event_id: str
    at_ms: int
    checkout_session_id: str | None = None


@dataclass(frozen=True)
class PaymentReversal:
    """Take back what a refund (`cumulative_micros`: everything refunded so far, as Stripe reports it) or a dispute
    (`amount_micros` for the dispute `reversal_id`) says, once; never more than the payment credited."""

    payment_id: str
    kind: Literal["refund", "dispute"]
    reversal_id: str  # the charge (refunds, cumulative) or the dispute id
    micros: int
    event_id: str
    at_ms: int


@dataclass(frozen=True)
class PaymentReceipt:
    payment_id: str
    charge_id: str
    receipt_url: str | None


@dataclass(frozen=True)
class Applied:
    """What a move did: `moved` micro-dollars (0: a duplicate or nothing left to take back), and the balance read
    right after when known."""

    moved: int
    balance_after_micros: int | None = None


class PaymentNotCredited(Exception):
    """A reversal of a payment the books have not credited (yet)."""


class PaymentBooks(Protocol):
    """The account's balance and ledger, as payments move them, and the payment records."""

    def credit_payment(self, credit: PaymentCredit) -> Applied: ...
    def reverse_payment(self, reversal: PaymentReversal) -> Applied: ...
    def record_receipt(self, receipt: PaymentReceipt) -> None: ...
    def get_payment(self, payment_id: str) -> PaymentRecord | None: ...
    def payments_page(self, account_id: str, *, limit: int,
                      cursor: str | None = None) -> tuple[list[PaymentRecord], str | None]: ...


class PaymentAudit(Protocol):
    """What reconcile reads: each account with its entries, and its payments."""

    def account_with_ledger(self, account_id: str) -> tuple[AccountRecord | None, list[LedgerEntry]]: ...
    def account_payments(self, account_id: str) -> list[PaymentRecord]: ...
    def account_ids(self) -> Iterable[str]: ...


class PaymentGateway(Protocol):
    """The payment service: Checkout Sessions out, signed events in. Each call is GatewayNotConfigured while the
    deployment has no usable keys, before anything is verified or sent."""

    def ensure_configured(self) -> None:
        """Nothing when the keys are set; GatewayNotConfigured while either is empty or a placeholder."""
        ...

    def create_checkout_session(self, request: CheckoutRequest) -> CheckoutSession: ...

    def verified_event(self, payload: bytes, signature_header: str | None) -> dict[str, Any]:
        """The event, when `signature_header` verifies `payload` within the tolerance; else SignatureRejected."""
        ...

    def charge_off_session(self, payment: OffSessionPayment) -> str:
        """The PaymentIntent's id (its success arrives as an event); PaymentDeclined when the card is refused. Asked
        twice with one `payment.claim`, Stripe answers the first PaymentIntent (its idempotency key)."""
        ...


class RechargeStore(Protocol):
    """data/recharge.py: the settings, the saved card and the claim of a crossing."""

    def get(self, account_id: str) -> RechargeSettingsRecord | None: ...
    def put_choice(self, account_id: str, *, enabled: bool, threshold_micros: int, recharge_to_micros: int,
                   monthly_cap_micros: int) -> None: ...
    def save_card(self, account_id: str, customer_id: str, payment_method_id: str) -> None: ...
    def claim_crossing(self, account_id: str, balance_micros: int, claim: str, now: int) -> bool: ...
    def start(self, account_id: str, claim: str, amount_minor: int, month: str, month_charged_micros: int) -> bool: ...
    def disable(self, account_id: str, claim: str | None, reason: str) -> bool: ...
    def release_claim(self, account_id: str, claim: str) -> bool: ...
    def put_low_balance(self, account_id: str, micros: int | None, email: str | None) -> None: ...
    def claim_low_alert(self, account_id: str, balance_micros: int) -> bool: ...
    def rearm_low_alert(self, account_id: str, balance_micros: int) -> bool: ...


class AccountWebhookTarget(Protocol):
    """The account's webhook settings (its default URL and signing secrets), read."""

    def get(self, account_id: str) -> AccountWebhookSettings | None: ...


class EventQueue(Protocol):
    def send(self, message: WebhookMessage) -> None: ...


class EmailSender(Protocol):
    """data/email.py (SES): one plain-text message from the operator's sender."""

    def send(self, to: str, subject: str, text: str) -> None: ...


class RechargeQueue(Protocol):
    def send(self, account_id: str, claim: str) -> None: ...


class PaymentDeclined(Exception):
    """The saved card was refused off-session (declined, or it needs the customer to authenticate)."""


class SignatureRejected(Exception):
    """The webhook's signature did not verify (forged, altered, or older than the tolerance: a replay)."""


class GatewayFailed(Exception):
    """The payment service refused or failed a request."""


class GatewayNotConfigured(Exception):
    """The deployment has no Stripe keys: the secret key or the webhook secret is empty or a placeholder (the
    template's `replace-me`). Payments are not enabled; nothing may be verified with such a value."""
