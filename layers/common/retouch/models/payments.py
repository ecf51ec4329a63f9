"""Stored records and API models of payments: Stripe top-ups, their receipts and what was taken back.

A payment is keyed by its Stripe PaymentIntent id (`pi_…`), the id every event about it names (the Checkout
Session's `payment_intent`, the Charge's `payment_intent`, the Dispute's `payment_intent`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from retouch.secret_placeholders import is_unset

PaymentPurpose = Literal["top_up", "auto_recharge"]


class PaymentRecord(BaseModel):
    """`PAYMENT#<payment_id>` / `PAYMENT`: written by the events that concern it, in any order."""

    payment_id: str
    account_id: str | None = None  # set with the credit (a receipt may arrive first)
    purpose: PaymentPurpose | None = None
    currency: str | None = None
    amount_minor: int | None = None  # what Stripe took, in the currency's minor unit (cents)
    amount_micros: int = 0  # what the ledger was credited
    credited_at_ms: int | None = None
    refunded_micros: int = 0  # taken back by refunds (cumulative, as Stripe reports it)
    disputed_micros: int = 0  # taken back by disputes
    checkout_session_id: str | None = None
    charge_id: str | None = None
    receipt_url: str | None = None
    credit_event_id: str | None = None  # the Stripe event that credited it

    @property
    def reversed_micros(self) -> int:
        return self.refunded_micros + self.disputed_micros

    @property
    def status(self) -> str:
        if self.credited_at_ms is None:
            return "pending"
        if self.reversed_micros >= self.amount_micros:
            return "disputed" if self.disputed_micros else "refunded"
        if self.reversed_micros:
            return "partially_reversed"
        return "succeeded"


class StripeKeys(BaseModel):
    """The Stripe secret's JSON (Secrets Manager): never logged, never in a response. As the template creates it,
    both keys are `replace-me`: not `configured` until the operator puts real ones in."""

    model_config = ConfigDict(frozen=True)

    secret_key: str
    webhook_secret: str

    @property
    def configured(self) -> bool:
        """Both keys set: neither empty nor a placeholder (secret_placeholders.py)."""
        return not is_unset(self.secret_key) and not is_unset(self.webhook_secret)


class CheckoutRequest(BaseModel):
    """What Retouch asks Stripe for: one Checkout Session paying `amount_minor` for `account_id`'s credit."""

    account_id: str
    amount_minor: int
    currency: str
    success_url: str
    cancel_url: str
    save_card: bool = False


class OffSessionPayment(BaseModel):
    """An auto-recharge: charge the saved card without the customer, once per `claim` (Stripe's idempotency key)."""

    account_id: str
    claim: str
    amount_minor: int
    currency: str
    customer_id: str
    payment_method_id: str


class CheckoutSession(BaseModel):
    id: str
    url: str
    expires_at: int | None = None


# ---- the API ---------------------------------------------------------------------------------------------------

class TopUpRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_usd: Decimal = Field(gt=0, max_digits=12, decimal_places=2,
                                description="Credit to buy, in dollars with at most 2 decimals (cents); within the "
                                            "operator's minimum and maximum")
    # Strict: "yes" or 1 is not a choice to keep a card (pydantic would read either as true).
    save_card: StrictBool = Field(default=False, description="Keep the card for auto-recharge (off-session payments)")


class TopUpView(BaseModel):
    id: str = Field(description="The Stripe Checkout Session's id")
    object: Literal["billing.top_up"] = "billing.top_up"
    url: str = Field(description="Open this page to pay; the credit is added when Stripe confirms the payment")
    amount_usd: float
    amount_micros: int
    currency: str
    expires_at: int | None = Field(default=None, description="Unix seconds; the page stops taking payment then")


class PaymentView(BaseModel):
    id: str = Field(description="The Stripe PaymentIntent's id")
    object: Literal["billing.payment"] = "billing.payment"
    purpose: str
    status: str = Field(description="succeeded | partially_reversed | refunded | disputed")
    amount_usd: float
    amount_micros: int
    currency: str | None = None
    refunded_micros: int
    disputed_micros: int
    created: int = Field(description="Unix seconds of the credit")
    receipt_url: str | None = Field(default=None, description="Stripe's receipt page, once Stripe has sent it")
    checkout_session_id: str | None = None
    charge_id: str | None = None


class PaymentList(BaseModel):
    object: Literal["list"] = "list"
    data: list[PaymentView]
    has_more: bool
    next_cursor: str | None = Field(default=None, description="Pass as `after` for the next page")


# ---- auto-recharge ---------------------------------------------------------------------------------------------

class RechargeSettingsRecord(BaseModel):
    """`ACCOUNT#<id>` / `AUTO_RECHARGE`: the customer's choice, its saved card, this month's recharges, and the claim
    of the current crossing (one PaymentIntent per crossing: data/recharge.py)."""

    account_id: str
    enabled: bool = False
    threshold_micros: int = 0
    recharge_to_micros: int = 0
    monthly_cap_micros: int = 0
    customer_id: str | None = None
    payment_method_id: str | None = None
    month: str | None = None  # "2026-12" (UTC): the month month_charged_micros counts
    month_charged_micros: int = 0
    claim: str | None = None  # the crossing being recharged
    claimed_at: int | None = None
    started: str | None = None  # the claim whose PaymentIntent was asked for (never claimed again)
    started_amount_minor: int | None = None  # what it asked for: a retried request asks for the same (idempotency)
    disabled_reason: str | None = None  # "payment_failed", "monthly_cap_reached", "no_saved_card"
    # The balance alert (payments/alerts.py): `account.balance_low` when a settlement leaves the balance under it,
    # once until the balance is back at it or above (`low_alerted`).
    low_balance_micros: int | None = None
    low_alerted: bool = False
    alert_email: str | None = None  # where the alerts' e-mails go (when the operator configured a sender)


class AutoRechargeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool
    threshold_usd: Decimal = Field(ge=0, max_digits=12, decimal_places=2,
                                   description="Recharge when a job's settlement leaves the balance below this")
    recharge_to_usd: Decimal = Field(gt=0, max_digits=12, decimal_places=2,
                                     description="Bring the balance back up to this (more than threshold_usd)")
    monthly_cap_usd: Decimal = Field(gt=0, max_digits=12, decimal_places=2,
                                     description="At most this much recharged per UTC month; reaching it disables "
                                                 "auto-recharge")


class AutoRechargeView(BaseModel):
    object: Literal["billing.auto_recharge"] = "billing.auto_recharge"
    enabled: bool
    threshold_usd: float
    recharge_to_usd: float
    monthly_cap_usd: float
    card_saved: bool = Field(description="A card was saved by a top-up with `save_card: true`")
    month_charged_usd: float = Field(description="Recharged this UTC month")
    pending_since: int | None = Field(default=None, description="Unix seconds: a recharge is being charged")
    disabled_reason: str | None = Field(default=None, description="Why it turned itself off: payment_failed, "
                                                                  "monthly_cap_reached")


class BalanceAlertRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    balance_low_usd: Decimal | None = Field(ge=0, max_digits=12, decimal_places=2,
                                            description="Send `account.balance_low` when a job's settlement leaves "
                                                        "the balance under this; null turns it off")
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                              description="Also e-mail the alerts here (when the operator configured a sender)")


class BalanceAlertView(BaseModel):
    object: Literal["billing.balance_alert"] = "billing.balance_alert"
    balance_low_usd: float | None = None  # (defaults: responses leave out nulls)
    email: str | None = None
    alerted: bool = Field(description="Sent for the current dip: the next comes once the balance is back above")
