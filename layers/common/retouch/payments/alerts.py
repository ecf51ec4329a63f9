"""Balance alerts: `account.balance_low` and `account.recharge_failed`, signed webhook events through the existing
webhook system (webhooks/delivery.py signs, retries and dead-letters them as it does a job's), sent to the account's
default webhook URL (`retouch-admin webhooks`). An account with no default URL or no signing secret gets none.

    {"type": "account.balance_low", "id": "evt_…", "created_at": 1795399260,
     "data": {"object": "account", "id": "acct_…", "balance_usd": 4.88, "balance_low_usd": 5.0}}
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from retouch.models.webhooks import AccountEventType, WebhookMessage
from retouch.payments.ports import AccountWebhookTarget, EventQueue

logger = Logger(child=True)


@dataclass(frozen=True)
class AccountAlerts:
    webhooks: AccountWebhookTarget
    queue: EventQueue

    def send(self, account_id: str, event_type: AccountEventType, data: dict[str, Any]) -> bool:
        """Queue the event for the account's default webhook URL; False when it has none (or no secret). Never
        raises: an alert that cannot be queued is logged, and what it tells stays visible in the API."""
        try:
            now = int(time.time())
            settings = self.webhooks.get(account_id)
            if settings is None or not settings.default_url or not settings.signing_secrets(now):
                logger.info("account event not sent: no default webhook", extra={"account_id": account_id,
                                                                                   "type": event_type})
                return False
            message = WebhookMessage(event_id=f"evt_{uuid.uuid4().hex}", type=event_type, account_id=account_id,
                                     url=settings.default_url, created_at=now,
                                     data={"object": "account", "id": account_id, **data})
            self.queue.send(message)
        except Exception:
            logger.exception("account event not queued", extra={"account_id": account_id, "type": event_type})
            return False
        logger.info("account event queued", extra={"account_id": account_id, "type": event_type,
                                                   "event_id": message.event_id})
        return True
