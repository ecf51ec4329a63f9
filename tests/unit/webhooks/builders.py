"""Records for webhook tests: unique ids per call."""

from __future__ import annotations

import secrets

from retouch.models.records import JobRecord, StoredOutput
from retouch.models.webhooks import AccountWebhookSettings, JobWebhook, SigningSecret
from retouch.webhooks.signing import generate_secret

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
