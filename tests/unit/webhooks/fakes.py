"""In-memory stand-ins for the webhook ports (DynamoDB items, queues, the job repository, an object store)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from retouch.data.webhooks import SettingsConflict
from retouch.errors import QueueUnavailable
from retouch.models.records import JobRecord
from retouch.models.webhooks import AccountWebhookSettings, DeliveryRecord, JobWebhook, WebhookMessage


class FakeSettings:
    def __init__(self, *initial: AccountWebhookSettings) -> None:
        self.items = {s.account_id: s.model_copy(deep=True) for s in initial}

    def get(self, account_id: str) -> AccountWebhookSettings | None:
        found = self.items.get(account_id)
        return found.model_copy(deep=True) if found else None

    def put(self, settings: AccountWebhookSettings, *, expected_version: int | None) -> None:
        current = self.items.get(settings.account_id)
        if (current.version if current else None) != expected_version:
            raise SettingsConflict(settings.account_id)
        self.items[settings.account_id] = settings.model_copy(deep=True)


class FakeJobs:
    """JobRepository.get over records whose `webhook` lives in a FakeLog (as one DynamoDB item would)."""

    def __init__(self, log: FakeLog) -> None:
        self.records: dict[str, JobRecord] = {}
        self.log = log
        self.reads = 0

    def add(self, record: JobRecord) -> JobRecord:
        self.records[record.job_id] = record
        if record.webhook is not None:
            self.log.webhooks[record.job_id] = record.webhook.model_copy(deep=True)
        return record

    def get(self, job_id: str) -> JobRecord | None:
        self.reads += 1
        record = self.records.get(job_id)
        if record is None:
            return None
        return record.model_copy(update={"webhook": self.log.get(job_id)}, deep=True)


class FakeLog:
    def __init__(self) -> None:
        self.webhooks: dict[str, JobWebhook] = {}

    def get(self, job_id: str) -> JobWebhook | None:
        found = self.webhooks.get(job_id)
        return found.model_copy(deep=True) if found else None

    def mark_emitted(self, job_id: str, event_type: str) -> bool:
        return self._append(job_id, "emitted", event_type)

    def mark_delivered(self, job_id: str, event_id: str) -> bool:
        return self._append(job_id, "delivered", event_id)

    def _append(self, job_id: str, name: str, value: str) -> bool:
        webhook = self.webhooks.get(job_id)
        if webhook is None or value in getattr(webhook, name):
            return False
        getattr(webhook, name).append(value)
        return True

    def record_delivery(self, job_id: str, delivery: DeliveryRecord, *, keep: int) -> None:
        webhook = self.webhooks.get(job_id)
        if webhook is not None:
            webhook.deliveries = [*webhook.deliveries, delivery][-keep:]


@dataclass
class FakeQueue:
    sent: list[WebhookMessage] = field(default_factory=list)
    delays: list[tuple[str, int]] = field(default_factory=list)
    dead: list[tuple[WebhookMessage, str]] = field(default_factory=list)
    fail_sends: int = 0

    def send(self, message: WebhookMessage) -> None:
        if self.fail_sends:
            self.fail_sends -= 1
            raise QueueUnavailable("down")
        self.sent.append(message)

    def delay_redelivery(self, receipt_handle: str, seconds: int) -> None:
        self.delays.append((receipt_handle, seconds))

    def dead_letter(self, message: WebhookMessage, reason: str) -> None:
        self.dead.append((message, reason))


class FakeStore:
    def presign_get(self, key: str, expires_in: int) -> str:
        return f"https://bucket.example/{key}?expires={expires_in}"

    def get(self, key: str) -> bytes:
        raise AssertionError("webhook payloads never inline images")


def public_resolver(ip: str = "93.184.216.34"):
    """A getaddrinfo stand-in answering `ip` for every host (and recording the lookups)."""
    calls: list[tuple[Any, ...]] = []

    def resolve(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        calls.append((host, port))
        return [(2, 1, 6, "", (ip, port))]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve
