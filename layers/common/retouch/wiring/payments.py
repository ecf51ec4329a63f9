"""The payments function's collaborators, built from its PaymentsSettings."""

from __future__ import annotations

from retouch.billing.money import MICROS_PER_USD
from retouch.config import PaymentsSettings
from retouch.data.payments import PaymentRepository
from retouch.data.read_counts import ReadCountRepository
from retouch.data.recharge import RechargeRepository
from retouch.data.secrets import stripe_keys
from retouch.models.payments import StripeKeys
from retouch.payments.auto_recharge import RechargeFailedNotice
from retouch.payments.stripe_events import StripeEventsDeps
from retouch.payments.stripe_gateway import StripeGateway
from retouch.payments.top_ups import TopUpPolicy
from retouch.web.read_limit import ReadLimit
from retouch.web.routes.payments import PaymentRoutes
from retouch.wiring.alerts import account_alerts


def build_payments(settings: PaymentsSettings) -> list[object]:
    def keys() -> StripeKeys:  # read on the first request that needs Stripe, cached 5 minutes
        return stripe_keys(settings.stripe_secret_arn)

    books = PaymentRepository(settings.table_name)
    recharge = RechargeRepository(settings.table_name)
    alerts = account_alerts(settings.table_name, settings.webhooks_queue_url, settings.alert_sender_email)
    return [PaymentRoutes(
        stripe=StripeEventsDeps(gateway=StripeGateway(keys, api_base=settings.stripe_api_base), books=books,
                                currency=settings.top_up_currency, recharge=recharge,
                                notify=RechargeFailedNotice(alerts)),
        policy=TopUpPolicy(minimum_micros=settings.top_up_minimum_usd * MICROS_PER_USD,
                           maximum_micros=settings.top_up_maximum_usd * MICROS_PER_USD,
                           currency=settings.top_up_currency,
                           success_url=f"{settings.checkout_return_url}?top_up=paid",
                           cancel_url=f"{settings.checkout_return_url}?top_up=canceled"),
        accounts=books,
    )]


def payments_read_limit(settings: PaymentsSettings) -> ReadLimit:
    return ReadLimit(counter=ReadCountRepository(settings.table_name), per_minute=settings.reads_per_minute)

