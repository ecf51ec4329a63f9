"""The payment books on moto: a credit lands once per payment and per event, reversals take back once each (in any
order), never more than was credited, and may leave an account in arrears; reconcile agrees with all of it."""

from __future__ import annotations

import uuid

import pytest

from retouch.billing.reconcile import check_account
from retouch.data.payments import PaymentRepository
from retouch.data.usage import AccountJobs
from retouch.payments.ports import PaymentCredit, PaymentNotCredited, PaymentReceipt, PaymentReversal
from retouch.payments.reconcile import check_payments
from tests.integration.core.aws_stack import Stack, client

pytestmark = pytest.mark.usefixtures("stack")


def books(stack: Stack) -> PaymentRepository:
    return PaymentRepository(stack.table, client("dynamodb"))


def credit(account_id: str, payment_id: str, micros: int = 25_000_000, event: str | None = None) -> PaymentCredit:
    return PaymentCredit(account_id=account_id, payment_id=payment_id, amount_micros=micros,
                         amount_minor=micros // 10_000, currency="usd", purpose="top_up",
                         event_id=event or f"evt_{uuid.uuid4().hex}", at_ms=1_795_399_200_000)


def refund(payment_id: str, cumulative_micros: int) -> PaymentReversal:
    return PaymentReversal(payment_id=payment_id, kind="refund", reversal_id="ch_x", micros=cumulative_micros,
                           event_id=f"evt_{uuid.uuid4().hex}", at_ms=1_795_399_300_000)


def balance(stack: Stack, account_id: str) -> int:
    account = books(stack).get_account(account_id)
    assert account is not None
    return account.balance_micros


def clean(stack: Stack, account_id: str) -> list[object]:
    repo = books(stack)
    return [*check_account(repo, AccountJobs(stack.table, client("dynamodb")), account_id),
            *check_payments(repo, account_id)]


def test_a_payment_is_credited_once_whichever_events_name_it_and_however_often(stack: Stack) -> None:
    # Given an account with $1 and a receipt that arrives before the credit
    account_id = stack.seed_account(f"acct_{uuid.uuid4().hex[:20]}", credit_micros=1_000_000)
    payment_id = f"pi_{uuid.uuid4().hex}"
    books(stack).record_receipt(PaymentReceipt(payment_id=payment_id, charge_id="ch_1", receipt_url="https://r/1"))

    # When the same event is delivered twice and a second event about the same payment arrives
    first = books(stack).credit_payment(credit(account_id, payment_id, event="evt_same_" + payment_id))
    again = books(stack).credit_payment(credit(account_id, payment_id, event="evt_same_" + payment_id))
    other = books(stack).credit_payment(credit(account_id, payment_id))

    # Then the balance rose by exactly the amount, once, and the payment keeps its receipt
    assert (first.moved, again.moved, other.moved) == (25_000_000, 0, 0)
    assert balance(stack, account_id) == 26_000_000
    payment = books(stack).get_payment(payment_id)
    assert payment is not None and payment.receipt_url == "https://r/1" and payment.status == "succeeded"
    assert [p.payment_id for p in books(stack).account_payments(account_id)] == [payment_id]
    assert clean(stack, account_id) == []


def test_refunds_take_back_the_cumulative_amount_once_in_any_order(stack: Stack) -> None:
    account_id = stack.seed_account(f"acct_{uuid.uuid4().hex[:20]}", credit_micros=0)
    payment_id = f"pi_{uuid.uuid4().hex}"
    books(stack).credit_payment(credit(account_id, payment_id, 10_000_000))

    # When the later refund's event (cumulative $7) lands before the earlier one's ($3), and again
    assert books(stack).reverse_payment(refund(payment_id, 7_000_000)).moved == 7_000_000
    assert books(stack).reverse_payment(refund(payment_id, 3_000_000)).moved == 0
    assert books(stack).reverse_payment(refund(payment_id, 7_000_000)).moved == 0

    # Then $7 went back, once
    assert balance(stack, account_id) == 3_000_000
    assert books(stack).get_payment(payment_id).status == "partially_reversed"  # type: ignore[union-attr]
    assert clean(stack, account_id) == []


def test_a_dispute_of_spent_credit_leaves_the_account_in_arrears_and_never_takes_more_than_paid(stack: Stack) -> None:
    account_id = stack.seed_account(f"acct_{uuid.uuid4().hex[:20]}", credit_micros=0)
    payment_id = f"pi_{uuid.uuid4().hex}"
    books(stack).credit_payment(credit(account_id, payment_id, 10_000_000))
    books(stack).credit_payment(credit(account_id, f"pi_{uuid.uuid4().hex}", 5_000_000))
    # The customer spends $12 of it (an operator's correction stands in for the jobs)
    from retouch.billing.charges import add_credit
    add_credit(books(stack), account_id, -12_000_000, "spent")

    # When $4 was refunded and then the charge is disputed for the whole $10, twice
    books(stack).reverse_payment(refund(payment_id, 4_000_000))
    dispute = PaymentReversal(payment_id=payment_id, kind="dispute", reversal_id="dp_1", micros=10_000_000,
                              event_id="evt_dispute_" + payment_id, at_ms=1_795_399_400_000)
    taken = books(stack).reverse_payment(dispute)
    again = books(stack).reverse_payment(dispute)

    # Then only the $6 not refunded yet is taken back, once, and the balance is below zero: in arrears
    assert (taken.moved, again.moved) == (6_000_000, 0)
    assert balance(stack, account_id) == 3_000_000 - 4_000_000 - 6_000_000
    assert taken.balance_after_micros == -7_000_000
    assert clean(stack, account_id) == []  # a balance below zero after reversals is not a difference


def test_a_reversal_of_a_payment_not_credited_yet_is_refused_and_writes_nothing(stack: Stack) -> None:
    with pytest.raises(PaymentNotCredited):
        books(stack).reverse_payment(refund(f"pi_{uuid.uuid4().hex}", 1_000_000))
