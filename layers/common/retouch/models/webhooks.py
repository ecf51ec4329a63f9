"""Webhook models: the job's subscription and delivery log (stored), its view, queue messages, account settings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, BeforeValidator, Field, Json

WebhookEventType = Literal["job.started", "job.succeeded", "job.failed", "job.canceled"]
EVENT_TYPES: tuple[WebhookEventType, ...] = ("job.started", "job.succeeded", "job.failed", "job.canceled")
DEFAULT_EVENTS: tuple[WebhookEventType, ...] = ("job.succeeded", "job.failed", "job.canceled")
DeliveryOutcome = Literal["delivered", "retrying", "failed"]
# Events about the account rather than a job (payments/alerts.py), sent to the account's default webhook URL.
AccountEventType = Literal["account.balance_low", "account.recharge_failed"]
MAX_WEBHOOK_URL = 2048
MAX_DELIVERIES_SHOWN = 20


def _event_list(value: Any) -> Any:
    """Multipart sends one string: a JSON array (`["job.started"]`) or comma-separated names."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except (ValueError, RecursionError):
                return value
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


# The length bounds sit on the inner types: on the `| None` union they would be applied to null too, and
# pydantic raises TypeError (a 500) instead of a validation error. Null is the same as leaving the field out.
WebhookEvents = Annotated[
    Annotated[list[WebhookEventType], Field(max_length=len(EVENT_TYPES))] | None,
    BeforeValidator(_event_list),
    Field(default=None, description="Events to send to webhook_url; default job.succeeded, job.failed, job.canceled"),
]
WebhookUrl = Annotated[
    Annotated[str, Field(min_length=1, max_length=MAX_WEBHOOK_URL)] | None,
    Field(default=None, description="https URL that receives signed job events (Standard Webhooks)"),
]


class DeliveryRecord(BaseModel):
    """One delivery attempt, as the job's log keeps it."""

    event_id: str
    type: WebhookEventType
    attempt: int
    status_code: int | None = None
    at: int
    error: str | None = None
    outcome: DeliveryOutcome


class JobWebhook(BaseModel):
    """The job item's `webhook` attribute: where events go, which were queued, which were delivered, the log."""

    url: str
    events: list[WebhookEventType]
    emitted: list[WebhookEventType] = Field(default_factory=list,
                                            description="Event types put on the webhooks queue, in order")
    delivered: list[str] = Field(default_factory=list, description="Event ids a receiver accepted (2xx)")
    deliveries: list[DeliveryRecord] = Field(default_factory=list)


class WebhookView(BaseModel):
    url: str
    events: list[WebhookEventType]
    deliveries: list[DeliveryRecord] = Field(default_factory=list, description="The latest attempts, oldest first")


def webhook_view(webhook: JobWebhook | None) -> WebhookView | None:
    if webhook is None:
        return None
    return WebhookView(url=webhook.url, events=webhook.events, deliveries=webhook.deliveries[-MAX_DELIVERIES_SHOWN:])


class WebhookMessage(BaseModel):
    """One event on the webhooks queue. A job's event carries `job`, the job record when the event happened (its
    outputs are presigned at each attempt, so URLs stay fresh); an account's event (no job) carries `data`, its
    payload as it is sent."""

    event_id: str
    type: WebhookEventType | AccountEventType
    job_id: str | None = None
    account_id: str
    url: str
    created_at: int
    job: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    redelivery: bool = False


class WebhookMessageRecord(SqsRecordModel):
    body: Json[WebhookMessage]


class SigningSecret(BaseModel):
    secret: str = Field(repr=False)
    created_at: int
    expires_at: int | None = None  # set on the old secret when a rotation starts

    def active(self, now: int) -> bool:
        return self.expires_at is None or self.expires_at > now


class AccountWebhookSettings(BaseModel):
    """The account's webhook item: its default URL and signing secrets (newest first)."""

    account_id: str
    default_url: str | None = None
    secrets: list[SigningSecret] = Field(default_factory=list)
    version: int = 0

    def signing_secrets(self, now: int) -> list[str]:
        return [s.secret for s in self.secrets if s.active(now)]


class RedeliveryView(BaseModel):
    object: Literal["webhook.redelivery"] = "webhook.redelivery"
    job_id: str
    event_id: str
    type: WebhookEventType


@dataclass(frozen=True)
class SendResult:
    """What one delivery attempt came to: the receiver's status code, or why there was none."""

    status_code: int | None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
