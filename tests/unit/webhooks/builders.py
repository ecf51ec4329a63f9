"""Records for webhook tests (unique ids per call), and one event set up for delivery to a scripted receiver."""

from __future__ import annotations

import secrets
import time
from typing import Any

from retouch.models.records import JobRecord, StoredOutput
from retouch.models.webhooks import AccountWebhookSettings, JobWebhook, SendResult, SigningSecret
from retouch.webhooks.delivery import DeliveryDeps
from retouch.webhooks.events import build_message
from retouch.webhooks.signing import generate_secret
from tests.fakes import FakeSettings, FakeWebhookLog, FakeWebhookQueue

NOW = 1_760_000_000


def new_job_id() -> str:
    return "job_" + secrets.token_hex(12)


def new_account_id() -> str:
    return "acct_" + secrets.token_hex(8)


def job(*, status: str = "succeeded", webhook: JobWebhook | None = None, account_id: str | None = None,
        response_format: str = "url") -> JobRecord:
    return JobRecord(
        job_id=new_job_id(), account_id=account_id or new_account_id(), kind="generation", status=status,
        model="gpt-image-2", request={"prompt": "a cat", "n": 1, "response_format": response_format},
        outputs=[StoredOutput(key="outputs/a/j/0.png", content_type="image/png", bytes=10, width=8, height=8)]
        if status == "succeeded" else [],
        created_at=NOW - 100, started_at=NOW - 90 if status != "queued" else None,
        completed_at=NOW - 10 if status in ("succeeded", "failed", "canceled") else None,
        expires_at=NOW + 86400, webhook=webhook,
    )


def subscribed(url: str = "https://hooks.example.com/retouch", events: tuple[str, ...] = (
        "job.started", "job.succeeded", "job.failed", "job.canceled")) -> JobWebhook:
    return JobWebhook(url=url, events=list(events))


def account_settings(account_id: str, *, default_url: str | None = None, secret: str | None = None
                     ) -> AccountWebhookSettings:
    return AccountWebhookSettings(account_id=account_id, default_url=default_url, version=1,
                                  secrets=[SigningSecret(secret=secret or generate_secret(), created_at=NOW - 1000)])


SCHEDULE = (5, 30, 120)


class Receiver:
    """Answers with the next status (or raises nothing: status None means a connection error)."""

    def __init__(self, *statuses: int | None) -> None:
        self.statuses = list(statuses)
        self.requests: list[tuple[str, bytes, dict[str, str]]] = []

    def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
        self.requests.append((url, body, headers))
        status = self.statuses.pop(0) if self.statuses else 200
        if status is None:
            return SendResult(None, "connection failed (ConnectError)")
        return SendResult(status, None if 200 <= status < 300 else f"HTTP {status}")


def delivery_setup(*statuses: int | None, redelivery: bool = False) -> tuple[Any, ...]:
    """One subscribed job's event about to be delivered to a Receiver answering `statuses` in turn."""
    record = job(webhook=subscribed())
    settings = account_settings(record.account_id)
    log = FakeWebhookLog()
    log.webhooks[record.job_id] = record.webhook.model_copy(deep=True)
    receiver, queue = Receiver(*statuses), FakeWebhookQueue()
    deps = DeliveryDeps(settings=FakeSettings(settings), log=log, queue=queue, render=lambda m: b'{"ok":true}',
                        send=receiver, schedule=SCHEDULE, clock=lambda: int(time.time()))
    message = build_message(record, "job.succeeded", redelivery=redelivery)
    return message, deps, receiver, log, queue, settings.secrets[0].secret
