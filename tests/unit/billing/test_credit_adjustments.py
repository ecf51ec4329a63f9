"""An operator's credit adjustment (billing/adjustments.py) over the fake ledger: once per Idempotency-Key (always
given: the route refuses a request without one), even when an identical request commits between this one's read and
its write; a reused key or a refusal moves nothing."""

from __future__ import annotations

import pytest

from retouch.billing.adjustments import adjust_credit, adjustment_entry_id
from retouch.errors import AccountNotFound, BalanceWouldGoNegative, IdempotencyKeyReused
from retouch.models.account_records import LedgerEntry
from tests.fakes.ledger import FakeLedger, account

ACCOUNT = "acct_unit000000000000000"


def test_the_same_key_adjusts_once_and_replays_the_first_entry() -> None:
    ledger = FakeLedger(account(1_000_000))

    first = adjust_credit(ledger, ACCOUNT, 500_000, "goodwill", operator="user-1", idempotency_key="k1")
    again = adjust_credit(ledger, ACCOUNT, 500_000, "goodwill", operator="user-1", idempotency_key="k1")

    assert (first.replayed, again.replayed) == (False, True)
    assert first.entry == again.entry and first.entry.adjusted_by == "user-1" and first.entry.note == "goodwill"
    assert first.balance_micros == again.balance_micros == 1_500_000 and len(ledger.entries) == 1


def test_different_keys_are_different_adjustments() -> None:
    ledger = FakeLedger(account(0))

    adjust_credit(ledger, ACCOUNT, 1, "one", operator="u", idempotency_key="k1")
    adjust_credit(ledger, ACCOUNT, 1, "one", operator="u", idempotency_key="k2")

    assert ledger.state is not None and ledger.state.balance_micros == 2 and len(ledger.entries) == 2


class _LateReader(FakeLedger):
    """An identical request commits its credit between this request's read of the entry and its write."""

    def __init__(self) -> None:
        super().__init__(account(0))
        self.first_read = True

    def entry(self, account_id: str, entry_id: str) -> LedgerEntry | None:
        if self.first_read:
            self.first_read = False
            self.credit(LedgerEntry(entry_id=entry_id, account_id=account_id, kind="credit", amount_micros=7, at_ms=1,
                                    note="same"))
            return None
        return super().entry(account_id, entry_id)


def test_an_identical_request_that_commits_first_is_replayed_not_added() -> None:
    ledger = _LateReader()

    made = adjust_credit(ledger, ACCOUNT, 7, "same", operator="u", idempotency_key="k")

    assert made.replayed and ledger.state is not None and ledger.state.balance_micros == 7 and len(ledger.entries) == 1


def test_a_reused_key_a_correction_below_zero_and_no_account_move_nothing() -> None:
    ledger = FakeLedger(account(100))
    adjust_credit(ledger, ACCOUNT, 50, "first", operator="u", idempotency_key="k")

    with pytest.raises(IdempotencyKeyReused):
        adjust_credit(ledger, ACCOUNT, 51, "first", operator="u", idempotency_key="k")
    with pytest.raises(BalanceWouldGoNegative):
        adjust_credit(ledger, ACCOUNT, -151, "too much", operator="u", idempotency_key="k2")
    with pytest.raises(AccountNotFound):
        adjust_credit(FakeLedger(None), ACCOUNT, 5, "welcome", operator="u", idempotency_key="k3")

    assert ledger.state is not None and ledger.state.balance_micros == 150 and len(ledger.entries) == 1


def test_entry_ids_have_the_admin_tools_shape_and_follow_the_key() -> None:
    assert adjustment_entry_id("k") == adjustment_entry_id("k") != adjustment_entry_id("k2")
    assert len(adjustment_entry_id("k")) == len("credit_") + 32
