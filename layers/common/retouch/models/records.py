"""Stored-record models: the shape of items in DynamoDB (never returned to clients as is)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from retouch.images.inspect import ImageFormat
from retouch.models.common import TERMINAL_STATUSES, FileStatus, JobKind, JobStatus
from retouch.models.webhooks import JobWebhook


class StoredInput(BaseModel):
    """An input image: an S3 object written by the API or uploaded by the client (`file_id`), or a URL the worker
    fetches."""

    key: str | None = None
    url: str | None = None
    file_id: str | None = None
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
    # Whether the image has an alpha channel (None: stored before it was recorded): its background when the
    # upstream did not say.
    has_alpha: bool | None = None


class ProducedOutputs(BaseModel):
    """What a worker stored before finishing (a checkpoint): a re-run after a crash finishes from here and does
    not call the provider again."""

    outputs: list[StoredOutput]
    result: dict[str, Any] = Field(default_factory=dict)
    usage: dict[str, Any] | None = None
    upstream: str | None = None  # the routing entry that produced them
    upstream_cost_micros: int | None = None  # what that upstream charged us, when known
    upstream_cost_reported: bool = False  # that cost is the upstream's own figure (not the routing's estimate)


# How one call to one upstream ended: served the job, left it pending (asynchronous), failed in a way another
# upstream may not (unavailable, auth_failed), refused it (never sent elsewhere), or was skipped (circuit open).
AttemptOutcome = Literal["succeeded", "pending", "unavailable", "auth_failed", "refused", "skipped"]


class UpstreamAttempt(BaseModel):
    upstream: str
    outcome: AttemptOutcome
    code: str | None = None
    upstream_job_id: str | None = None
    cost_micros: int | None = None
    latency_ms: int | None = None
    at: int
    # The upstream may have billed this call (routing/paid_attempts.py): accepted, timed out, or answered unusably.
    possibly_paid: bool = False


class PendingCall(BaseModel):
    """An asynchronous upstream's job the worker polls through delayed messages; `seq` names the one poll message
    that may continue it (an older or duplicated message finds another number and is dropped)."""

    upstream: str
    route_index: int
    handle: dict[str, Any]  # providers.upstream.PollHandle.to_json()
    seq: int
    polls: int = 0
    poll_errors: int = 0  # consecutive polls that failed transiently
    submitted_at: int


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
    # Balance moves in flight (billing/charges.py): the price whose hold on the account is not yet confirmed by its
    # reserve entry (the job is not runnable until it is), and what an ended job's hold gives back until the
    # account has it and the settle entry is written. Either left set by a crash is finished by the sweeper.
    hold_pending: int | None = None
    release_pending: int | None = None
    # The hold is an entry of the account's `holds` map (False for jobs reserved before holds existed, whose release
    # moves the balance the old way, once: data/ledger.py `release_unmapped`).
    hold_on_account: bool = False
    # The Idempotency-Key (its hash) the job was submitted under: a job deleted before it was accepted frees it.
    idempotency_key_hash: str | None = None
    created_at: int
    started_at: int | None = None
    completed_at: int | None = None
    attempts: int = 0
    claim_token: str | None = None
    lease_until: int | None = None
    # While unfinished: when the job is due to have moved on (queued: created or retry time; running: its lease).
    # Past it by the sweeper's grace, the job is stranded (no worker, no message) and the sweeper acts.
    watch_at: int | None = None
    produced: ProducedOutputs | None = None
    # Routing: every upstream call in order, which upstream served the job and what it cost us (when known), and
    # the asynchronous call being polled, if any.
    upstream_attempts: list[UpstreamAttempt] = Field(default_factory=list)
    upstream: str | None = None
    upstream_cost_micros: int | None = None
    upstream_cost_reported: bool = False  # the upstream reported that cost (else the routing's per-image estimate)
    pending_call: PendingCall | None = None
    expires_at: int
    webhook: JobWebhook | None = None  # where job events go, and their delivery log
    # Set when its owner deleted the job: inputs and outputs are gone, and only what billing needs is kept.
    deleted_at: int | None = None
    # The account's end user it was made for (OpenAI's `user`, or X-End-User), and the device token that submitted
    # it, if any: their quota holds are settled with the job's (billing/end_user_quotas.py).
    end_user: str | None = None
    client_token_id: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


class FileRecord(BaseModel):
    """An uploaded file: created `pending` with its presigned upload, then `ready` or `rejected` once its object
    has been read (by content, when the file is first read or used). Expires with the table's TTL."""

    file_id: str
    account_id: str
    key: str  # the S3 object the client uploads
    filename: str
    purpose: str
    mime_type: str  # as declared (the upload's Content-Type)
    declared_bytes: int
    status: FileStatus
    created_at: int
    expires_at: int
    # Once read: what the object is (by content), and its ETag (a re-upload under the same key is read again).
    bytes: int | None = None
    format: ImageFormat | None = None
    content_type: str | None = None
    width: int | None = None
    height: int | None = None
    has_alpha: bool | None = None
    etag: str | None = None
    error: JobError | None = None  # why it was rejected
    end_user: str | None = None  # the account's end user it was uploaded for
