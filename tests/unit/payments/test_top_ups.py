"""Starting a top-up (payments/top_ups.py): the operator's range, cents, and Stripe's failures as typed errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from retouch.errors import PaymentProviderError, PaymentsNotEnabled, TopUpAmountInvalid
from retouch.payments.top_ups import TopUpPolicy, list_payments, start_top_up
from tests.fakes.payments import FakeGateway, FakePaymentBooks

POLICY = TopUpPolicy(minimum_micros=5_000_000, maximum_micros=500_000_000, currency="usd",
                     success_url="https://example.com/b?top_up=paid", cancel_url="https://example.com/b?top_up=no")


def test_a_top_up_asks_stripe_for_the_amount_in_cents_for_the_account() -> None:
    gateway = FakeGateway()
    view = start_top_up(gateway, POLICY, "acct_1", Decimal("25.50"))
    assert (view.amount_micros, view.currency, view.url) == (25_500_000, "usd", "https://checkout.test/1")
    [request] = gateway.sessions
    assert (request.account_id, request.amount_minor, request.currency) == ("acct_1", 2550, "usd")


@pytest.mark.parametrize("amount", ["4.99", "500.01", "0.01"])
def test_a_top_up_outside_the_operators_range_asks_stripe_nothing(amount: str) -> None:
    gateway = FakeGateway()
    with pytest.raises(TopUpAmountInvalid):
        start_top_up(gateway, POLICY, "acct_1", Decimal(amount))
    assert gateway.sessions == []


def test_stripe_refusing_is_a_502_payment_provider_error() -> None:
    with pytest.raises(PaymentProviderError):
        start_top_up(FakeGateway(fail=True), POLICY, "acct_1", Decimal("10"))


def test_a_top_up_without_stripe_keys_is_a_503_payments_not_enabled() -> None:
    gateway = FakeGateway(configured=False)
    with pytest.raises(PaymentsNotEnabled) as refused:
        start_top_up(gateway, POLICY, "acct_1", Decimal("10"))
    assert (refused.value.status_code, refused.value.code) == (503, "payments_not_enabled")
    assert gateway.sessions == []


def test_payments_are_listed_newest_first_with_their_status() -> None:
    from retouch.payments.ports import PaymentCredit

    books = FakePaymentBooks(balances={"acct_1": 0})
    for index, payment in enumerate(("pi_old", "pi_new")):
        books.credit_payment(PaymentCredit(account_id="acct_1", payment_id=payment, amount_micros=5_000_000,
                                           amount_minor=500, currency="usd", purpose="top_up",
                                           event_id=f"evt_{index}", at_ms=1_000 + index))
    page = list_payments(books, "acct_1", 20, None)
    assert [(p.id, p.status) for p in page.data] == [("pi_new", "succeeded"), ("pi_old", "succeeded")]
