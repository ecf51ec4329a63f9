"""Stored-record models: the shape of items in DynamoDB (never returned to clients as is)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from retouch.models.common import TERMINAL_STATUSES, JobKind, JobStatus
from retouch.models.webhooks import JobWebhook


class StoredInput(BaseModel):
    """An input image: an S3 object written by the API, or a URL the worker fetches."""

    key: str | None = None
    url: str | None = None
    content_type: str | None = None
    bytes: int | None = None
    width: int | None = None
    height: int | None = None


class StoredOutput(BaseModel):
    key: str
    content_type: str
    bytes: int
    width: int
    height: int


class JobError(BaseModel):
    code: str
    message: str


class JobRecord(BaseModel):
    job_id: str
    account_id: str
    kind: JobKind
    status: JobStatus
    model: str
    request: dict[str, Any]
    metadata: dict[str, str] = Field(default_factory=dict)
    inputs: list[StoredInput] = Field(default_factory=list)
    mask: StoredInput | None = None
    outputs: list[StoredOutput] = Field(default_factory=list)
    result: dict[str, Any] = Field(default_factory=dict)
    usage: dict[str, Any] | None = None
    error: JobError | None = None
    # Billing: micro-dollars held at submit (None for jobs that were never priced) and the markup used.
    reserved_micros: int | None = None
    price_version: str | None = None
    markup_percent: int | None = None
    created_at: int
    started_at: int | None = None
    completed_at: int | None = None
    attempts: int = 0
    claim_token: str | None = None
    lease_until: int | None = None
    expires_at: int
    webhook: JobWebhook | None = None  # where job events go, and their delivery log

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


class AccountRecord(BaseModel):
    account_id: str
    name: str
    status: str = "active"
    created_at: int
    # Billing: available credit (after holds) in micro-dollars, jobs queued or running, and limits.
    balance_micros: int = 0
    in_flight: int = 0
    max_in_flight: int = 10
    requests_per_minute: int = 60


class ApiKeyRecord(BaseModel):
    key_hash: str
    key_id: str
    account_id: str
    prefix: str
    created_at: int
    revoked_at: int | None = None


class LedgerEntry(BaseModel):
    """One movement of an account's balance; the sum of an account's entries is its balance."""

    entry_id: str
    account_id: str
    job_id: str | None = None
    kind: Literal["credit", "reserve", "settle"]
    amount_micros: int
    balance_after_micros: int
    at_ms: int
    note: str | None = None
    # settle only: what the job cost, what went back to the balance, how it ended, images produced.
    charged_micros: int | None = None
    released_micros: int | None = None
    outcome: str | None = None
    images: int | None = None
