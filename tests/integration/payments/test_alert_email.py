"""Account alerts' e-mails through SES (data/email.py) on moto: sent from the operator's verified sender to the
account's alert address; an unverified sender is refused by SES, which the alert logs without raising."""

from __future__ import annotations

import uuid

import pytest

from retouch.data.email import SesEmail
from retouch.data.recharge import RechargeRepository
from retouch.data.webhooks import WebhookQueue, WebhookSettingsRepository
from retouch.payments.alerts import AccountAlerts
from tests.integration.core.aws_stack import Stack, client

pytestmark = pytest.mark.usefixtures("stack")
SENDER = "alerts@retouch.test"


def alerts(stack: Stack, sender: str) -> AccountAlerts:
    store = RechargeRepository(stack.table, client("dynamodb"))

    def recipient(account_id: str) -> str | None:
        found = store.get(account_id)
        return found.alert_email if found else None

    queue_url = stack.environments["PaymentsFunction"]["RETOUCH_WEBHOOKS_QUEUE_URL"]
    return AccountAlerts(webhooks=WebhookSettingsRepository(stack.table, client("dynamodb")),
                         queue=WebhookQueue(queue_url, client=client("sqs")),
                         email=SesEmail(sender, client("ses")), recipient=recipient)


def sent_so_far() -> int:
    return int(client("ses").get_send_quota()["SentLast24Hours"])


def test_an_alert_is_emailed_to_the_accounts_address_from_the_verified_sender(stack: Stack) -> None:
    client("ses").verify_email_identity(EmailAddress=SENDER)
    account_id = stack.seed_account(f"acct_{uuid.uuid4().hex[:20]}", credit_micros=0)
    RechargeRepository(stack.table, client("dynamodb")).put_low_balance(account_id, 5_000_000, "ops@customer.test")
    before = sent_so_far()

    assert alerts(stack, SENDER).send(account_id, "account.balance_low", {"balance_usd": 4.9})

    assert sent_so_far() == before + 1


def test_an_unverified_sender_is_refused_and_the_alert_does_not_raise(stack: Stack) -> None:
    account_id = stack.seed_account(f"acct_{uuid.uuid4().hex[:20]}", credit_micros=0)
    RechargeRepository(stack.table, client("dynamodb")).put_low_balance(account_id, 5_000_000, "ops@customer.test")
    before = sent_so_far()
    assert not alerts(stack, "nobody@unverified.test").send(account_id, "account.recharge_failed", {"reason": "x"})
    assert sent_so_far() == before
