"""Auto-recharge (payments/auto_recharge.py) on in-memory collaborators: a charged settlement under the threshold
claims the crossing once and queues one recharge; the recharge asks Stripe once per claim, within the monthly cap;
a decline or the cap turns it off and notifies."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from retouch.errors import InvalidRequest, PaymentsNotEnabled
from retouch.models.account_records import AccountRecord
from retouch.models.payments import AutoRechargeRequest, BalanceAlertRequest
from retouch.models.webhooks import AccountWebhookSettings, SigningSecret
from retouch.payments.alerts import AccountAlerts
from retouch.payments.auto_recharge import (
    BalanceWatch,
    RechargeDeps,
    RechargeFailedNotice,
    choose,
    choose_balance_alert,
    run_recharge,
)
from retouch.payments.ports import GatewayFailed
from tests.fakes.payments import FakeEmail, FakeGateway, FakeRechargeStore, Notices
from tests.fakes.queues import FakeWebhookQueue
from tests.fakes.webhooks import FakeSettings

ACCOUNT = "acct_unit000000000000000"
NOW = 1_796_000_000.0  # 2026-12


@dataclass
class Queue:
    sent: list[tuple[str, str]] = field(default_factory=list)

    def send(self, account_id: str, claim: str) -> None:
        self.sent.append((account_id, claim))


def alerts(queue: FakeWebhookQueue | None = None, *, default_url: str | None = "https://hooks.test/a",
           email: FakeEmail | None = None, to: str | None = None) -> AccountAlerts:
    webhooks = FakeSettings(AccountWebhookSettings(account_id=ACCOUNT, default_url=default_url,
                                                   secrets=[SigningSecret(secret="whsec_dGVzdA==", created_at=1)]))
    return AccountAlerts(webhooks=webhooks, queue=queue or FakeWebhookQueue(), email=email,
                         recipient=lambda _account: to)


def watch(store: FakeRechargeStore, queue: Queue, events: FakeWebhookQueue | None = None) -> BalanceWatch:
    return BalanceWatch(store=store, queue=queue, alerts=alerts(events))


def store_with_card(**choice: int) -> FakeRechargeStore:
    store = FakeRechargeStore()
    store.save_card(ACCOUNT, "cus_1", "pm_1")
    store.put_choice(ACCOUNT, enabled=True, threshold_micros=choice.get("threshold", 5_000_000),
                     recharge_to_micros=choice.get("to", 20_000_000), monthly_cap_micros=choice.get("cap", 50_000_000))
    return store


def deps(store: FakeRechargeStore, balance: int, gateway: FakeGateway | None = None,
         notices: Notices | None = None) -> RechargeDeps:
    account = AccountRecord(account_id=ACCOUNT, name="unit", created_at=1, balance_micros=balance)
    return RechargeDeps(store=store, gateway=gateway or FakeGateway(), get_account=lambda _: account, currency="usd",
                        notify=notices or Notices())


def test_many_settlements_under_the_threshold_queue_one_recharge() -> None:
    store, queue = store_with_card(), Queue()
    watching = watch(store, queue)
    watching(ACCOUNT, 6_000_000)  # above: nothing
    for balance in range(4_990_000, 4_970_000, -1_000):
        watching(ACCOUNT, balance)
    assert len(queue.sent) == 1


def test_a_recharge_asks_stripe_once_per_claim_for_what_brings_the_balance_to_recharge_to() -> None:
    store, queue = store_with_card(), Queue()
    watch(store, queue)(ACCOUNT, 4_990_000)
    [(_, claim)] = queue.sent
    gateway = FakeGateway()
    assert run_recharge(deps(store, 4_990_000, gateway), ACCOUNT, claim, now=NOW) == "requested"
    # a redelivered message (the balance moved meanwhile) asks for the same PaymentIntent
    assert run_recharge(deps(store, 3_000_000, gateway), ACCOUNT, claim, now=NOW) == "requested"
    assert [p.amount_minor for p in gateway.intents.values()] == [1501]  # $15.01, rounded up to the cent


def test_a_claim_made_after_the_balance_was_restored_charges_nothing() -> None:
    # Given a claim queued by a settlement that read the balance before the last recharge was credited
    store, queue = store_with_card(), Queue()
    watch(store, queue)(ACCOUNT, 4_990_000)
    [(_, claim)] = queue.sent
    gateway = FakeGateway()
    # When it runs with the balance back above the threshold (under recharge_to)
    outcome = run_recharge(deps(store, 19_500_000, gateway), ACCOUNT, claim, now=NOW)
    # Then no PaymentIntent is made and the claim is released for the next crossing
    assert outcome == "not_needed" and gateway.intents == {}
    settings = store.get(ACCOUNT)
    assert settings is not None and settings.claim is None


def test_the_monthly_cap_turns_it_off_and_notifies() -> None:
    store, queue, notices = store_with_card(cap=10_000_000), Queue(), Notices()
    watch(store, queue)(ACCOUNT, 1_000_000)
    gateway = FakeGateway()
    assert run_recharge(deps(store, 1_000_000, gateway, notices), ACCOUNT, queue.sent[0][1], now=NOW) == "disabled"
    assert gateway.intents == {} and notices.sent == [(ACCOUNT, "monthly_cap_reached")]
    settings = store.get(ACCOUNT)
    assert settings is not None and not settings.enabled and settings.disabled_reason == "monthly_cap_reached"


def test_a_declined_card_turns_it_off_and_notifies_and_a_stripe_outage_is_retried() -> None:
    store, queue, notices = store_with_card(), Queue(), Notices()
    watch(store, queue)(ACCOUNT, 1_000_000)
    claim = queue.sent[0][1]
    with pytest.raises(GatewayFailed):
        run_recharge(deps(store, 1_000_000, FakeGateway(fail=True)), ACCOUNT, claim, now=NOW)
    assert run_recharge(deps(store, 1_000_000, FakeGateway(decline=True), notices), ACCOUNT, claim,
                        now=NOW) == "disabled"
    assert notices.sent == [(ACCOUNT, "payment_failed")]


def test_settings_need_a_saved_card_and_consistent_amounts() -> None:
    request = AutoRechargeRequest(enabled=True, threshold_usd=Decimal(5), recharge_to_usd=Decimal(20),
                                  monthly_cap_usd=Decimal(100))
    with pytest.raises(InvalidRequest) as no_card:
        choose(FakeRechargeStore(), FakeGateway(), ACCOUNT, request)
    assert no_card.value.code == "no_saved_card"
    with pytest.raises(InvalidRequest):
        choose(store_with_card(), FakeGateway(), ACCOUNT, request.model_copy(update={"recharge_to_usd": Decimal(5)}))
    view = choose(store_with_card(), FakeGateway(), ACCOUNT, request)
    assert (view.enabled, view.threshold_usd, view.recharge_to_usd, view.card_saved) == (True, 5.0, 20.0, True)


def test_without_stripe_keys_auto_recharge_cannot_be_turned_on_but_can_be_turned_off() -> None:
    # Given a saved card, auto-recharge on, and a deployment whose Stripe secret holds placeholders
    store, unset = store_with_card(), FakeGateway(configured=False)
    request = AutoRechargeRequest(enabled=True, threshold_usd=Decimal(5), recharge_to_usd=Decimal(20),
                                  monthly_cap_usd=Decimal(100))

    # When the customer turns it on, then off
    with pytest.raises(PaymentsNotEnabled) as refused:
        choose(store, unset, ACCOUNT, request)
    off = choose(store, unset, ACCOUNT, request.model_copy(update={"enabled": False}))

    # Then on is 503 payments_not_enabled; off is saved
    assert (refused.value.status_code, refused.value.code) == (503, "payments_not_enabled")
    assert off.enabled is False


def test_a_disabled_recharge_sends_account_recharge_failed_to_the_default_webhook() -> None:
    events = FakeWebhookQueue()
    RechargeFailedNotice(alerts(events))(ACCOUNT, "payment_failed", "Your card was declined.")
    [message] = events.sent
    assert (message.type, message.job_id, message.url) == ("account.recharge_failed", None, "https://hooks.test/a")
    assert message.data is not None and message.data["reason"] == "payment_failed"


def test_the_balance_alert_is_sent_once_per_dip_and_only_with_a_default_webhook() -> None:
    store, events = FakeRechargeStore(), FakeWebhookQueue()
    choose_balance_alert(store, ACCOUNT, BalanceAlertRequest(balance_low_usd=Decimal("5.00")))
    watching = watch(store, Queue(), events)
    for balance in (6_000_000, 4_900_000, 4_800_000, 5_100_000, 4_700_000):
        watching(ACCOUNT, balance)
    assert [(m.type, m.data["balance_micros"]) for m in events.sent if m.data] == [
        ("account.balance_low", 4_900_000), ("account.balance_low", 4_700_000)]
    silent = FakeWebhookQueue()
    assert not alerts(silent, default_url=None).send(ACCOUNT, "account.balance_low", {})
    assert silent.sent == []


def test_with_an_operators_sender_and_an_accounts_address_the_alert_is_also_emailed() -> None:
    email, events = FakeEmail(), FakeWebhookQueue()
    assert alerts(events, default_url=None, email=email, to="ops@customer.test").send(
        ACCOUNT, "account.balance_low", {"balance_usd": 4.9})
    [(to, subject, text)] = email.sent
    assert (to, subject) == ("ops@customer.test", "Your Retouch balance is low") and "balance_usd: 4.9" in text
    assert events.sent == []  # no default webhook URL: e-mail only
    assert not alerts(FakeWebhookQueue(), default_url=None, email=FakeEmail(), to=None).send(
        ACCOUNT, "account.balance_low", {})
