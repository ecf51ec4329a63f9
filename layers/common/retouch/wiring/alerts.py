"""The account alerts every function that raises them builds alike (worker, payments, recharge)."""

from __future__ import annotations

from retouch.data.email import SesEmail
from retouch.data.recharge import RechargeRepository
from retouch.data.webhooks import WebhookQueue, WebhookSettingsRepository
from retouch.payments.alerts import AccountAlerts


def account_alerts(table_name: str, webhooks_queue_url: str, sender: str | None) -> AccountAlerts:
    """Webhook events to the account's default URL; e-mails from `sender` (None: none) to its alert address."""
    preferences = RechargeRepository(table_name)

    def recipient(account_id: str) -> str | None:
        found = preferences.get(account_id)
        return found.alert_email if found else None

    return AccountAlerts(webhooks=WebhookSettingsRepository(table_name), queue=WebhookQueue(webhooks_queue_url),
                         email=SesEmail(sender) if sender else None, recipient=recipient)
