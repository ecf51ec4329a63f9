"""Auto-recharge: when a job's settlement leaves the balance under the customer's threshold, charge the saved card
once, off-session, up to `recharge_to`, within a monthly cap.

    settle (worker)   BalanceWatch: under the threshold and enabled -> claim the crossing (one conditional write;
                      exactly one of any number of concurrent settlements wins) -> one message on the recharge queue
    recharge function run_recharge: the amount (recharge_to - balance), the month's cap, then ONE PaymentIntent,
                      off-session, with the claim as Stripe's idempotency key (a redelivered message gets the same one)
    Stripe's event    payment_intent.succeeded credits it and ends the claim in the credit's transaction;
                      payment_intent.payment_failed (or a refusal now) disables auto-recharge and notifies

Stripe is never called on the settlement's path: the watch costs one read (and, on a crossing, one write and one
message). A failure or the cap turns auto-recharge off, with its reason, until the customer sets it again, and
sends `account.recharge_failed` (payments/alerts.py). The same watch sends `account.balance_low` once per dip under
the customer's alert threshold.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aws_lambda_powertools import Logger

from retouch.billing.money import MICROS_PER_USD, to_usd
from retouch.errors import InvalidRequest, PaymentsNotEnabled
from retouch.models.account_records import AccountRecord
from retouch.models.payments import (
    AutoRechargeRequest,
    AutoRechargeView,
    BalanceAlertRequest,
    BalanceAlertView,
    OffSessionPayment,
    RechargeSettingsRecord,
)
from retouch.observability.metrics import auto_recharge_disabled
from retouch.payments.alerts import AccountAlerts
from retouch.payments.ports import (
    GatewayFailed,
    GatewayNotConfigured,
    PaymentDeclined,
    PaymentGateway,
    RechargeQueue,
    RechargeStore,
)
from retouch.payments.top_ups import MICROS_PER_CENT

logger = Logger(child=True)

# Stripe's smallest USD charge is $0.50: a recharge for less asks for this.
MINIMUM_CHARGE_CENTS = 50

# Tells the customer (and the operator) that auto-recharge turned itself off: account_id, reason, detail.
RechargeNotice = Callable[[str, str, str], None]


@dataclass(frozen=True)
class RechargeFailedNotice:
    """A RechargeNotice: the metric and a warning, and `account.recharge_failed` to the account's webhook."""

    alerts: AccountAlerts

    def __call__(self, account_id: str, reason: str, detail: str) -> None:
        auto_recharge_disabled(reason)
        logger.warning("auto-recharge disabled", extra={"account_id": account_id, "reason": reason, "detail": detail})
        self.alerts.send(account_id, "account.recharge_failed",
                         {"reason": reason, "detail": detail, "auto_recharge_enabled": False})


@dataclass(frozen=True)
class BalanceWatch:
    """Called by a settlement that charged something, with the balance its release left (billing/charges.py): the
    balance alert (once per dip) and the auto-recharge claim (once per crossing)."""

    store: RechargeStore
    queue: RechargeQueue
    alerts: AccountAlerts

    def __call__(self, account_id: str, balance_after_micros: int) -> None:
        try:
            settings = self.store.get(account_id)
            if settings is None:
                return
            self._balance_alert(settings, balance_after_micros)
            if not settings.enabled or balance_after_micros >= settings.threshold_micros:
                return
            claim = f"rc_{uuid.uuid4().hex}"
            if self.store.claim_crossing(account_id, balance_after_micros, claim, int(time.time())):
                self.queue.send(account_id, claim)
                logger.info("auto-recharge claimed", extra={"account_id": account_id, "claim": claim,
                                                            "balance_after_micros": balance_after_micros})
        except Exception:
            logger.exception("auto-recharge watch failed", extra={"account_id": account_id})

    def _balance_alert(self, settings: RechargeSettingsRecord, balance: int) -> None:
        low = settings.low_balance_micros
        if low is None:
            return
        if balance < low and not settings.low_alerted:
            if self.store.claim_low_alert(settings.account_id, balance):
                self.alerts.send(settings.account_id, "account.balance_low",
                                 {"balance_usd": to_usd(balance), "balance_micros": balance,
                                  "balance_low_usd": to_usd(low)})
        elif balance >= low and settings.low_alerted:
            self.store.rearm_low_alert(settings.account_id, balance)


@dataclass(frozen=True)
class RechargeDeps:
    store: RechargeStore
    gateway: PaymentGateway
    get_account: Callable[[str], AccountRecord | None]
    currency: str
    notify: RechargeNotice


def _month(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m")


def run_recharge(deps: RechargeDeps, account_id: str, claim: str, *, now: float | None = None) -> str:
    """One queued recharge; what happened ("stale", "not_needed", "disabled", "requested"). GatewayFailed propagates
    (the message comes back; the same claim asks Stripe for the same PaymentIntent), and so does GatewayNotConfigured
    (the Stripe secret was reset to placeholders: the message ends in the dead-letter queue, whose alarm says so)."""
    settings = deps.store.get(account_id)
    if settings is None or settings.claim != claim:
        return "stale"  # credited, disabled or re-chosen meanwhile
    if not settings.customer_id or not settings.payment_method_id:
        deps.store.disable(account_id, claim, "no_saved_card")
        deps.notify(account_id, "no_saved_card", "Top up once with save_card to enable auto-recharge.")
        return "disabled"
    amount_minor = settings.started_amount_minor if settings.started == claim else None
    if amount_minor is None:
        account = deps.get_account(account_id)
        balance = account.balance_micros if account else 0
        # A claim whose crossing is over (a settlement that read the balance before the last recharge was credited
        # claimed again after it) charges nothing: one PaymentIntent per crossing.
        if balance >= settings.threshold_micros:
            deps.store.release_claim(account_id, claim)
            return "not_needed"
        missing = settings.recharge_to_micros - balance
        amount_minor = max(MINIMUM_CHARGE_CENTS, -(-missing // MICROS_PER_CENT))
        month = _month(now if now is not None else time.time())
        charged = settings.month_charged_micros if settings.month == month else 0
        if charged + amount_minor * MICROS_PER_CENT > settings.monthly_cap_micros:
            deps.store.disable(account_id, claim, "monthly_cap_reached")
            deps.notify(account_id, "monthly_cap_reached",
                        f"Recharging {to_usd(amount_minor * MICROS_PER_CENT)} USD would pass this month's cap.")
            return "disabled"
        if not deps.store.start(account_id, claim, amount_minor, month, charged):
            return "stale"
    try:
        intent = deps.gateway.charge_off_session(OffSessionPayment(
            account_id=account_id, claim=claim, amount_minor=amount_minor, currency=deps.currency,
            customer_id=settings.customer_id, payment_method_id=settings.payment_method_id))
    except PaymentDeclined as declined:
        deps.store.disable(account_id, claim, "payment_failed")
        deps.notify(account_id, "payment_failed", str(declined))
        return "disabled"
    except GatewayFailed:
        logger.warning("auto-recharge: Stripe failed; the message will come back", extra={"claim": claim})
        raise
    except GatewayNotConfigured:
        logger.warning("auto-recharge: payments are not configured (the Stripe secret holds placeholders)",
                       extra={"claim": claim})
        raise
    logger.info("auto-recharge requested", extra={"account_id": account_id, "claim": claim, "payment_id": intent,
                                                  "amount_minor": amount_minor})
    return "requested"


# ---- the customer's settings -----------------------------------------------------------------------------------

def _micros(amount: object) -> int:
    return int(amount * MICROS_PER_USD)  # type: ignore[operator]  # a Decimal with 2 places: exact


def choose(store: RechargeStore, gateway: PaymentGateway, account_id: str,
           request: AutoRechargeRequest) -> AutoRechargeView:
    """The customer's settings, saved. Turning it on needs a saved card and Stripe's keys (503 payments_not_enabled
    without them: no recharge could be charged); turning it off needs neither."""
    if request.enabled:
        try:
            gateway.ensure_configured()
        except GatewayNotConfigured as exc:
            raise PaymentsNotEnabled("Payments are not enabled on this deployment.") from exc
    threshold, recharge_to = _micros(request.threshold_usd), _micros(request.recharge_to_usd)
    cap = _micros(request.monthly_cap_usd)
    if recharge_to <= threshold:
        raise InvalidRequest("'recharge_to_usd' must be more than 'threshold_usd'.", param="recharge_to_usd")
    if cap < recharge_to - threshold:
        raise InvalidRequest("'monthly_cap_usd' must allow at least one recharge (recharge_to_usd - threshold_usd).",
                             param="monthly_cap_usd")
    current = store.get(account_id)
    if request.enabled and (current is None or not current.payment_method_id):
        raise InvalidRequest("No saved card: top up once with \"save_card\": true first.", param="enabled",
                             code="no_saved_card")
    store.put_choice(account_id, enabled=request.enabled, threshold_micros=threshold, recharge_to_micros=recharge_to,
                     monthly_cap_micros=cap)
    return view(store, account_id)


def view(store: RechargeStore, account_id: str) -> AutoRechargeView:
    settings = store.get(account_id)
    if settings is None:
        return AutoRechargeView(enabled=False, threshold_usd=0, recharge_to_usd=0, monthly_cap_usd=0,
                                card_saved=False, month_charged_usd=0)
    return AutoRechargeView(
        enabled=settings.enabled, threshold_usd=to_usd(settings.threshold_micros),
        recharge_to_usd=to_usd(settings.recharge_to_micros), monthly_cap_usd=to_usd(settings.monthly_cap_micros),
        card_saved=settings.payment_method_id is not None,
        month_charged_usd=to_usd(settings.month_charged_micros if settings.month == _month(time.time()) else 0),
        pending_since=settings.claimed_at if settings.claim else None, disabled_reason=settings.disabled_reason)


def choose_balance_alert(store: RechargeStore, account_id: str, request: BalanceAlertRequest) -> BalanceAlertView:
    micros = None if request.balance_low_usd is None else _micros(request.balance_low_usd)
    store.put_low_balance(account_id, micros, request.email)
    return balance_alert_view(store, account_id)


def balance_alert_view(store: RechargeStore, account_id: str) -> BalanceAlertView:
    settings = store.get(account_id)
    low = settings.low_balance_micros if settings else None
    return BalanceAlertView(balance_low_usd=None if low is None else to_usd(low),
                            email=settings.alert_email if settings else None,
                            alerted=bool(settings and settings.low_alerted))
