"""The webhook function's collaborators, built from its settings."""

from __future__ import annotations

from functools import cache, partial
from typing import TYPE_CHECKING

from retouch.config import WebhookSettings
from retouch.data.objects import ObjectStore
from retouch.data.webhooks import JobWebhookLog, WebhookQueue, WebhookSettingsRepository
from retouch.models.webhooks import SendResult
from retouch.outbound_http.url_safety import parse_allowlist
from retouch.webhooks.delivery import DeliveryDeps
from retouch.webhooks.events import payload_body

if TYPE_CHECKING:
    from retouch.webhooks.sender import WebhookSender


def build_delivery(settings: WebhookSettings) -> DeliveryDeps:
    allowlist = parse_allowlist(settings.url_allowlist)

    @cache
    def sender() -> WebhookSender:  # httpx is loaded on the first event, not at cold start
        from retouch.webhooks.sender import WebhookSender

        return WebhookSender(allowlist=allowlist, timeout_seconds=settings.webhook_timeout_seconds)

    def send(url: str, body: bytes, headers: dict[str, str]) -> SendResult:
        return sender().send(url, body, headers)

    return DeliveryDeps(
        settings=WebhookSettingsRepository(settings.table_name),
        log=JobWebhookLog(settings.table_name),
        queue=WebhookQueue(settings.webhooks_queue_url, settings.webhooks_dead_letter_queue_url),
        render=partial(payload_body, store=ObjectStore(settings.bucket_name),
                       url_expiry_seconds=settings.webhook_url_expiry_seconds),
        send=send,
        schedule=settings.retry_schedule,
    )
