"""Top-ups: a customer asks for credit, gets a Stripe Checkout page to pay on, and lists what it paid.

Nothing is credited here: the balance moves only when Stripe's signed event says the payment succeeded
(payments/stripe_events.py), so an abandoned checkout costs nothing and a paid one is credited exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from retouch.billing.money import MICROS_PER_USD, format_usd, to_usd
from retouch.errors import InvalidRequest, PaymentProviderError, PaymentsNotEnabled, TopUpAmountInvalid
from retouch.models.payments import CheckoutRequest, PaymentList, PaymentRecord, PaymentView, TopUpView
from retouch.paging import MAX_PAGE, invalid_cursor
from retouch.payments.ports import GatewayFailed, GatewayNotConfigured, PaymentBooks, PaymentGateway

# The ledger is in US dollars: a cent is 10,000 micro-dollars. Only USD is accepted (template: TopUpCurrency).
MICROS_PER_CENT = MICROS_PER_USD // 100


@dataclass(frozen=True)
class TopUpPolicy:
    """The operator's choices (template parameters): the smallest and largest top-up, the currency, where Stripe's
    page sends the customer back."""

    minimum_micros: int
    maximum_micros: int
    currency: str
    success_url: str
    cancel_url: str


def start_top_up(gateway: PaymentGateway, policy: TopUpPolicy, account_id: str, amount_usd: Decimal, *,
                 save_card: bool = False) -> TopUpView:
    """A Checkout Session paying `amount_usd` of credit to `account_id`; 400 outside the operator's range."""
    micros = int(amount_usd * MICROS_PER_USD)
    if not policy.minimum_micros <= micros <= policy.maximum_micros:
        raise TopUpAmountInvalid(f"A top-up is between {format_usd(policy.minimum_micros)} and "
                                 f"{format_usd(policy.maximum_micros)}.", param="amount_usd")
    request = CheckoutRequest(account_id=account_id, amount_minor=micros // MICROS_PER_CENT,
                              currency=policy.currency, success_url=policy.success_url, cancel_url=policy.cancel_url,
                              save_card=save_card)
    try:
        session = gateway.create_checkout_session(request)
    except GatewayNotConfigured as exc:
        raise PaymentsNotEnabled("Payments are not enabled on this deployment.") from exc
    except GatewayFailed as exc:
        raise PaymentProviderError(str(exc)) from exc
    return TopUpView(id=session.id, url=session.url, amount_usd=to_usd(micros), amount_micros=micros,
                     currency=policy.currency, expires_at=session.expires_at)


def payment_view(payment: PaymentRecord) -> PaymentView:
    return PaymentView(id=payment.payment_id, purpose=payment.purpose or "top_up", status=payment.status,
                       amount_usd=to_usd(payment.amount_micros), amount_micros=payment.amount_micros,
                       currency=payment.currency, refunded_micros=payment.refunded_micros,
                       disputed_micros=payment.disputed_micros, created=(payment.credited_at_ms or 0) // 1000,
                       receipt_url=payment.receipt_url, checkout_session_id=payment.checkout_session_id,
                       charge_id=payment.charge_id)


def list_payments(books: PaymentBooks, account_id: str, limit: int, after: str | None) -> PaymentList:
    """The account's credited payments, newest first; `after` is the previous page's `next_cursor`."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidRequest(f"'limit' must be between 1 and {MAX_PAGE}.", param="limit")
    try:
        payments, cursor = books.payments_page(account_id, limit=limit, cursor=after)
    except ValueError:
        raise invalid_cursor() from None
    return PaymentList(data=[payment_view(p) for p in payments], has_more=cursor is not None, next_cursor=cursor)
