"""Balance alerts: `account.balance_low` and `account.recharge_failed`, signed webhook events through the existing
webhook system (webhooks/delivery.py signs, retries and dead-letters them as it does a job's), sent to the account's
default webhook URL (`retouch-admin webhooks`), and an e-mail through SES to the account's alert address when the
operator configured a sender (AlertSenderEmail). An account with neither gets nothing.

    {"type": "account.balance_low", "id": "evt_…", "created_at": 1795399260,
     "data": {"object": "account", "id": "acct_…", "balance_usd": 4.88, "balance_low_usd": 5.0}}
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from retouch.models.webhooks import AccountEventType, WebhookMessage
from retouch.payments.ports import AccountWebhookTarget, EmailSender, EventQueue

logger = Logger(child=True)


_SUBJECTS = {"account.balance_low": "Your Retouch balance is low",
             "account.recharge_failed": "Your Retouch auto-recharge was turned off"}


@dataclass(frozen=True)
class AccountAlerts:
    webhooks: AccountWebhookTarget
    queue: EventQueue
    # The operator's SES sender (None: no e-mail), and where an account wants its alerts (None: nowhere).
    email: EmailSender | None
    recipient: Callable[[str], str | None]

    def send(self, account_id: str, event_type: AccountEventType, data: dict[str, Any]) -> bool:
        """The event to the account's default webhook URL, and its e-mail; True when either went. Never raises: an
        alert that cannot be sent is logged, and what it tells stays visible in the API."""
        emailed = self._email(account_id, event_type, data)
        return self._webhook(account_id, event_type, data) or emailed

    def _email(self, account_id: str, event_type: AccountEventType, data: dict[str, Any]) -> bool:
        if self.email is None:
            return False
        try:
            to = self.recipient(account_id)
            if not to:
                return False
            details = "\n".join(f"{key}: {value}" for key, value in data.items())
            self.email.send(to, _SUBJECTS[event_type], f"{_SUBJECTS[event_type]} (account {account_id}).\n\n"
                                                       f"{details}\n")
        except Exception:
            logger.exception("account e-mail not sent", extra={"account_id": account_id, "type": event_type})
            return False
        logger.info("account e-mail sent", extra={"account_id": account_id, "type": event_type})
        return True

    def _webhook(self, account_id: str, event_type: AccountEventType, data: dict[str, Any]) -> bool:
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
