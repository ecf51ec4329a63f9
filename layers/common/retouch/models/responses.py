"""Response models: what clients see. A finished job is also a valid OpenAI `ImagesResponse`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from retouch.models.common import FileStatus, JobKind, JobStatus
from retouch.models.webhooks import WebhookView


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class GatewayMessage(BaseModel):
    """API Gateway's own answers, e.g. `{"message": "Unauthorized"}` to a request without an Authorization header."""

    message: str


class ImageData(BaseModel):
    url: str | None = None
    b64_json: str | None = None
    width: int
    height: int
    content_type: str
    bytes: int


class JobErrorView(BaseModel):
    code: str
    message: str


class UpstreamAttemptView(BaseModel):
    """One call to an upstream: which, how it ended (succeeded, pending, unavailable, auth_failed, refused, or
    skipped while its circuit was open), the upstream's own job id, and how long it took."""

    upstream: str
    outcome: str
    code: str | None = None
    upstream_job_id: str | None = None
    latency_ms: int | None = None
    at: int
    possibly_paid: bool = Field(default=False, description="The upstream may have billed this call (accepted it, "
                                                            "timed out on it, or answered it unusably)")


class JobView(BaseModel):
    id: str
    object: Literal["image.job"] = "image.job"
    kind: JobKind
    status: JobStatus
    model: str
    created: int = Field(description="Unix seconds (OpenAI's name)")
    created_at: int
    started_at: int | None = None
    completed_at: int | None = None
    request: dict[str, Any] = Field(description="The submitted parameters, without image bytes")
    size: str | None = None
    quality: str | None = None
    output_format: str | None = None
    background: str | None = None
    data: list[ImageData] = Field(default_factory=list)
    response_format_served: Literal["url", "b64_json"] | None = Field(
        default=None, description="How `data` came back: `b64_json` only in the answer of the request that submitted "
                                  "the job and saw it end (within the response size limit); `url` in every later read "
                                  "and whenever an image did not fit")
    usage: dict[str, Any] | None = None
    error: JobErrorView | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    webhook: WebhookView | None = None
    user: str | None = Field(default=None, description="The end user it was made for (`user` or X-End-User)")
    upstream: str | None = Field(default=None, description="The upstream that produced the images")
    upstream_attempts: list[UpstreamAttemptView] = Field(default_factory=list,
                                                         description="Every upstream call, in order")
    possibly_paid_attempts: int = Field(default=0, description="Upstream calls that may have been billed (the one "
                                                               "that served the job included); never charged twice")


class JobList(BaseModel):
    object: Literal["list"] = "list"
    data: list[JobView] = Field(description="Newest first; outputs as presigned URLs")
    has_more: bool
    next_cursor: str | None = Field(default=None,
                                    description="Pass as `after` (with the same filters) for the next page")


class ModelView(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str
    limits: dict[str, Any]
    qualities: list[str]
    output_formats: list[str]
    backgrounds: list[str]
    unsupported_parameters: list[str]
    pricing: dict[str, Any] | None = Field(default=None, description="Per-image prices (see billing/prices.json)")
    aliases: list[str] = Field(default_factory=list, description="Dated names served as this model")
    upstreams: dict[str, str] = Field(default_factory=dict, description="Upstreams that serve it: its name at each")
    parameters: dict[str, Any] = Field(default_factory=dict, description="JSON Schema of an edit's parameters")


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelView]


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class AccountLimits(BaseModel):
    max_in_flight: int = Field(description="Jobs queued or running at once")
    requests_per_minute: int


class AccountView(BaseModel):
    id: str
    object: Literal["account"] = "account"
    name: str
    status: str
    balance_usd: float = Field(description="Available credit (holds of jobs in flight already taken off)")
    balance_micros: int = Field(description="The same in micro-dollars (exact)")
    in_flight: int
    limits: AccountLimits
    created: int
    key_max_cost_per_call_micros: int | None = Field(
        default=None, description="The calling key's MCP per-call ceiling in micro-dollars, set by the operator: the "
                                  "most one MCP tool call made with this key may hold. null: the key has none of "
                                  "its own")


class UsageBucket(BaseModel):
    date: str | None = Field(default=None, description="UTC day the jobs were created, YYYY-MM-DD (group_by day)")
    model: str | None = Field(default=None, description="(group_by model)")
    user: str | None = Field(default=None, description="The end user (group_by user); absent for the jobs made for "
                                                       "no end user")
    jobs: int
    images: int
    cost_usd: float
    cost_micros: int


class UsageReport(BaseModel):
    object: Literal["usage"] = "usage"
    start: str
    end: str
    group_by: list[str] = Field(default_factory=lambda: ["day", "model"])
    data: list[UsageBucket]
    total_jobs: int
    total_images: int
    total_cost_usd: float
    total_cost_micros: int


class LedgerEntryView(BaseModel):
    id: str
    object: Literal["ledger.entry"] = "ledger.entry"
    kind: str = Field(description="credit | reserve | settle | top_up | reversal")
    job_id: str | None = None
    amount_usd: float
    amount_micros: int
    balance_after_usd: float | None = Field(
        default=None, description="The balance just after this movement, when its writer saw it (null for credits "
                                  "and movements completed after an interruption)")
    balance_after_micros: int | None = None
    created: int = Field(description="Unix seconds")
    created_ms: int
    note: str | None = None
    charged_micros: int | None = None
    released_micros: int | None = None
    outcome: str | None = None
    images: int | None = None
    payment_id: str | None = Field(default=None, description="top_up and reversal: the Stripe PaymentIntent")
    stripe_event_id: str | None = Field(default=None, description="top_up and reversal: the Stripe event")


class LedgerPage(BaseModel):
    object: Literal["list"] = "list"
    data: list[LedgerEntryView]
    has_more: bool
    next_cursor: str | None = Field(default=None, description="Pass as `after` for the next page")


class UploadTarget(BaseModel):
    """Where and how to send the file's bytes: a presigned S3 POST (multipart/form-data: every field, then the
    file last, as `file`)."""

    url: str
    method: Literal["POST"] = "POST"
    fields: dict[str, str] = Field(description="Form fields to send as they are, before the file")


class FileErrorView(BaseModel):
    code: str
    message: str


class _FileFacts(BaseModel):
    id: str
    filename: str
    purpose: str
    status: FileStatus = Field(description="pending until the bytes arrive; then ready, or rejected (see error)")
    bytes: int = Field(description="The declared size while pending; the object's size once read")
    mime_type: str
    format: str | None = Field(default=None, description="png | jpeg | webp, by content")
    width: int | None = None
    height: int | None = None
    created_at: int
    expires_at: int
    error: FileErrorView | None = None
    user: str | None = Field(default=None, description="The end user it was uploaded for")


class FileView(_FileFacts):
    object: Literal["file"] = "file"


class UploadView(_FileFacts):
    """POST /v1/uploads: the file (pending) and the presigned request that uploads it."""

    object: Literal["upload"] = "upload"
    upload: UploadTarget
    upload_expires_at: int = Field(description="Unix seconds after which S3 refuses the upload request")


class FileList(BaseModel):
    object: Literal["list"] = "list"
    data: list[FileView]
    has_more: bool
    next_cursor: str | None = Field(default=None, description="Pass as `after` for the next page")


class FileDeleted(BaseModel):
    id: str
    object: Literal["file"] = "file"
    deleted: Literal[True] = True
