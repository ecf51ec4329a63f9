"""Collaborators several functions build alike: the job-event announcer, the billing of jobs, the webhook
subscriber, and fetching input URLs."""

from __future__ import annotations

from retouch.billing.charges import JobBilling
from retouch.billing.end_user_quotas import EndUserQuotas
from retouch.billing.prices import price_table
from retouch.config import ApiSettings
from retouch.data.client_tokens import ClientTokenRepository
from retouch.data.end_users import EndUserRepository
from retouch.data.jobs import JobRepository
from retouch.data.ledger import LedgerRepository
from retouch.data.webhooks import JobWebhookLog, WebhookQueue, WebhookSettingsRepository
from retouch.outbound_http.url_safety import parse_allowlist
from retouch.webhooks.events import Announcer
from retouch.webhooks.subscribe import WebhookSubscriber


def announcer(table_name: str, webhooks_queue_url: str) -> Announcer:
    return Announcer(jobs=JobRepository(table_name), log=JobWebhookLog(table_name),
                     queue=WebhookQueue(webhooks_queue_url))


def job_billing(table_name: str, jobs: JobRepository, markup_percent: int | None) -> JobBilling:
    """Every function that bills builds the same price table (the file's prices with the deployment's markup), even
    those that only release holds and never consult a price; and the end users' quotas, held and settled with it."""
    return JobBilling(ledger=LedgerRepository(table_name), jobs=jobs, prices=price_table(markup_percent),
                      end_users=end_user_quotas(table_name))


def end_user_quotas(table_name: str) -> EndUserQuotas:
    return EndUserQuotas(store=EndUserRepository(table_name), tokens=ClientTokenRepository(table_name))


def webhook_subscriber(settings: ApiSettings) -> WebhookSubscriber:
    return WebhookSubscriber(settings=WebhookSettingsRepository(settings.table_name),
                             allowlist=parse_allowlist(settings.url_allowlist))
