"""The auto-recharge claim on moto (data/recharge.py): of 20 concurrent settlements under the threshold exactly one
claims the crossing; the recharge's credit ends the claim (so the next crossing may claim) and counts in the month;
a stale claim is taken over only if its recharge never started."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from retouch.data.payments import PaymentRepository
from retouch.data.recharge import CLAIM_STALE_SECONDS, RechargeRepository
from retouch.payments.ports import PaymentCredit
from tests.integration.core.aws_stack import Stack, client

pytestmark = pytest.mark.usefixtures("stack")
NOW = 1_796_000_000


def enabled_account(stack: Stack) -> tuple[str, RechargeRepository]:
    account_id = stack.seed_account(f"acct_{uuid.uuid4().hex[:20]}", credit_micros=4_000_000)
    store = RechargeRepository(stack.table, client("dynamodb"))
    store.save_card(account_id, "cus_1", "pm_1")
    store.put_choice(account_id, enabled=True, threshold_micros=5_000_000, recharge_to_micros=10_000_000,
                     monthly_cap_micros=50_000_000)
    return account_id, store


def test_twenty_concurrent_settlements_under_the_threshold_claim_one_crossing(stack: Stack) -> None:
    account_id, store = enabled_account(stack)
    with ThreadPoolExecutor(max_workers=20) as pool:
        won = list(pool.map(lambda i: store.claim_crossing(account_id, 4_000_000 - i, f"rc_{i}", NOW), range(20)))
    assert won.count(True) == 1
    settings = store.get(account_id)
    assert settings is not None and settings.claim == f"rc_{won.index(True)}"


def test_the_recharges_credit_ends_the_claim_and_counts_in_the_month(stack: Stack) -> None:
    account_id, store = enabled_account(stack)
    assert store.claim_crossing(account_id, 4_000_000, "rc_a", NOW)
    assert store.start(account_id, "rc_a", 600, "2026-12", 0)
    PaymentRepository(stack.table, client("dynamodb")).credit_payment(PaymentCredit(
        account_id=account_id, payment_id=f"pi_{uuid.uuid4().hex}", amount_micros=6_000_000, amount_minor=600,
        currency="usd", purpose="auto_recharge", event_id=f"evt_{uuid.uuid4().hex}", at_ms=NOW * 1000))
    settings = store.get(account_id)
    assert settings is not None and settings.claim is None and settings.month_charged_micros == 6_000_000
    assert store.claim_crossing(account_id, 4_000_000, "rc_b", NOW)  # the next crossing may claim


def test_a_stale_claim_is_taken_over_only_if_its_recharge_never_started(stack: Stack) -> None:
    account_id, store = enabled_account(stack)
    later = NOW + CLAIM_STALE_SECONDS + 1
    assert store.claim_crossing(account_id, 4_000_000, "rc_lost", NOW)
    assert not store.claim_crossing(account_id, 4_000_000, "rc_early", NOW + 1)
    assert store.claim_crossing(account_id, 4_000_000, "rc_again", later)  # its message was lost
    assert store.start(account_id, "rc_again", 600, "2026-12", 0)
    assert not store.claim_crossing(account_id, 4_000_000, "rc_never", later + CLAIM_STALE_SECONDS + 1)
    assert not store.start(account_id, "rc_lost", 600, "2026-12", 0)  # the lost message, late: stale
