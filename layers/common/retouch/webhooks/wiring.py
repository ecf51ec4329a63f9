"""Builds the webhook collaborators from each function's settings (composition roots; boto3 clients are lazy)."""

from __future__ import annotations

from functools import partial

from retouch.config import ApiSettings, WebhookSettings
from retouch.data.jobs import JobRepository
from retouch.data.objects import ObjectStore
from retouch.data.webhooks import JobWebhookLog, WebhookQueue, WebhookSettingsRepository
from retouch.providers.url_safety import parse_allowlist
from retouch.webhooks.delivery import DeliveryDeps
from retouch.webhooks.events import Announcer, payload_body
from retouch.webhooks.subscribe import WebhookSubscriber


def build_announcer(table_name: str, webhooks_queue_url: str) -> Announcer:
    """For the worker and the dead-letter function."""
    return Announcer(jobs=JobRepository(table_name), log=JobWebhookLog(table_name), queue=WebhookQueue(webhooks_queue_url))


def build_subscriber(settings: ApiSettings) -> WebhookSubscriber:
    return WebhookSubscriber(settings=WebhookSettingsRepository(settings.table_name),
                             allowlist=parse_allowlist(settings.url_allowlist))


def build_delivery(settings: WebhookSettings) -> DeliveryDeps:
    from retouch.providers.webhook_sender import WebhookSender

    sender = WebhookSender(allowlist=parse_allowlist(settings.url_allowlist),
                           timeout_seconds=settings.webhook_timeout_seconds)
    return DeliveryDeps(
        settings=WebhookSettingsRepository(settings.table_name),
        log=JobWebhookLog(settings.table_name),
        queue=WebhookQueue(settings.webhooks_queue_url, settings.webhooks_dead_letter_queue_url),
        render=partial(payload_body, store=ObjectStore(settings.bucket_name),
                       url_expiry_seconds=settings.webhook_url_expiry_seconds),
        send=sender.send,
        schedule=settings.retry_schedule,
    )
