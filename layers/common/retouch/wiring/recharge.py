"""The recharge function's collaborators, built from its RechargeSettings (apart from wiring/payments.py: it loads
neither the payment books nor the web routes)."""

from __future__ import annotations

from retouch.config import RechargeSettings
from retouch.data.account_state import AccountStateRepository
from retouch.data.recharge import RechargeRepository
from retouch.data.secrets import stripe_keys
from retouch.payments.auto_recharge import RechargeDeps, RechargeFailedNotice
from retouch.payments.stripe_gateway import StripeGateway
from retouch.wiring.alerts import account_alerts


def build_recharge(settings: RechargeSettings) -> RechargeDeps:
    return RechargeDeps(
        store=RechargeRepository(settings.table_name),
        gateway=StripeGateway(lambda: stripe_keys(settings.stripe_secret_arn), api_base=settings.stripe_api_base),
        get_account=AccountStateRepository(settings.table_name).get_account, currency=settings.top_up_currency,
        notify=RechargeFailedNotice(account_alerts(settings.table_name, settings.webhooks_queue_url,
                                                   settings.alert_sender_email)))
