"""Request and response models of the console-only routes (issue #21): API keys, webhook settings, a job's images,
and the operator's views (accounts, credit adjustments, margin, upstream health). What is stored stays in
account_records.py and webhooks.py; these are what a signed-in person sends and sees."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from retouch.models.common import plain_amount, printable
from retouch.models.responses import LedgerEntryView
from retouch.models.webhooks import MAX_WEBHOOK_URL, DeliveryOutcome

MAX_KEY_NAME_CHARS = 64
MIN_REASON_CHARS, MAX_REASON_CHARS = 3, 200
# The most one operator adjustment may move, either way (a typo of a few zeros is refused, not credited).
MAX_ADJUSTMENT_USD = Decimal(100_000)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# ---- API keys ------------------------------------------------------------------------------------------------------


class CreateKeyRequest(_Request):
    name: str = Field(min_length=1, max_length=MAX_KEY_NAME_CHARS,
                      description="What the key is for, shown in the key list (1-64 characters)")


class KeyView(BaseModel):
    id: str
    object: Literal["api_key"] = "api_key"
    name: str | None = Field(default=None, description="null for keys issued by the admin tool without a name")
    prefix: str = Field(description="The key's first 12 characters, to recognise it")
    created_at: int
    revoked_at: int | None = None


class KeyList(BaseModel):
    object: Literal["list"] = "list"
    data: list[KeyView] = Field(description="Newest first, revoked keys included")


class CreatedKey(KeyView):
    key: str = Field(description="The secret key: shown in this answer only, never again (only its hash is kept)")


# ---- webhook settings ------------------------------------------------------------------------------------------


class WebhookSettingsRequest(_Request):
    url: str | None = Field(max_length=MAX_WEBHOOK_URL,
                            description="https URL for the account's events and the jobs that name none; null clears "
                                        "it")


class SecretLifetime(BaseModel):
    created_at: int
    expires_at: int | None = Field(default=None, description="Set on the old secret while a rotation overlaps")


class WebhookSettingsView(BaseModel):
    object: Literal["webhook.settings"] = "webhook.settings"
    url: str | None = Field(default=None, description="The default webhook URL; null: none")
    secrets: list[SecretLifetime] = Field(description="The signing secrets in use, newest first (never their values)")
    secret: str | None = Field(default=None, description="Only when this request created the account's first "
                                                         "signing secret: shown once")


class RotatedSecret(BaseModel):
    object: Literal["webhook.secret"] = "webhook.secret"
    secret: str = Field(description="The new signing secret: shown in this answer only")
    previous_expires_at: int | None = Field(default=None, description="When the secrets it replaces stop signing "
                                                                      "(null: there were none)")


class DeliveryLogEntry(BaseModel):
    job_id: str
    event_type: str
    event_id: str
    outcome: DeliveryOutcome
    status_code: int | None = None
    attempt: int
    at: int
    error: str | None = None


class DeliveryLog(BaseModel):
    object: Literal["list"] = "list"
    data: list[DeliveryLogEntry] = Field(description="The latest attempts across the account's recent jobs, newest "
                                                     "first")


# ---- a job's images ------------------------------------------------------------------------------------------------


class JobImageLink(BaseModel):
    url: str = Field(description="A presigned GET link (15 minutes at most), or for an input given by URL, that URL")
    source: Literal["stored", "url"] = Field(description="`url`: the job fetched this input from the URL shown")
    role: Literal["image", "mask", "output"]
    width: int | None = None
    height: int | None = None
    content_type: str | None = None
    bytes: int | None = None


class JobImages(BaseModel):
    object: Literal["job.images"] = "job.images"
    job_id: str
    expires_in: int = Field(description="Seconds the presigned links work")
    inputs: list[JobImageLink] = Field(description="The input images in order, then the mask if any")
    outputs: list[JobImageLink]


# ---- operator -----------------------------------------------------------------------------------------------------


class AccountSummary(BaseModel):
    id: str
    object: Literal["account.summary"] = "account.summary"
    name: str
    status: str
    created_at: int
    balance_usd: float
    balance_micros: int
    in_flight: int
    spend_30d_usd: float = Field(description="What the account's jobs created in the last 30 days were charged")
    spend_30d_micros: int


class AccountSummaryPage(BaseModel):
    object: Literal["list"] = "list"
    data: list[AccountSummary]
    has_more: bool
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next page")


class CreditAdjustmentRequest(_Request):
    amount_usd: Annotated[Decimal, BeforeValidator(plain_amount)] = Field(
        max_digits=14, decimal_places=6, ge=-MAX_ADJUSTMENT_USD, le=MAX_ADJUSTMENT_USD,
        description="Dollars to add (negative: to take back; never below a zero balance), exact to the micro-dollar: "
                    "a plain decimal string of ASCII digits such as \"25.00\" or \"-2.5\", or a JSON number")
    reason: Annotated[str, AfterValidator(printable)] = Field(
        min_length=MIN_REASON_CHARS, max_length=MAX_REASON_CHARS,
        description="Why: kept on the ledger entry, which the customer sees (printable characters only)")

    @field_validator("amount_usd")
    @classmethod
    def _not_zero(cls, value: Decimal) -> Decimal:
        if value == 0:
            raise ValueError("the amount must not be zero")
        return value


class CreditAdjustmentView(BaseModel):
    object: Literal["credit.adjustment"] = "credit.adjustment"
    account_id: str
    balance_usd: float = Field(description="The account's available balance after the adjustment")
    balance_micros: int
    entry: LedgerEntryView


class MarginRowView(BaseModel):
    date: str | None = Field(default=None, description="UTC day the jobs were created (group_by=day)")
    model: str
    upstream: str
    jobs: int
    images: int
    revenue_micros: int
    upstream_cost_micros: int
    margin_micros: int = Field(description="Revenue minus upstream cost, over the jobs whose upstream cost is known")
    jobs_without_cost: int
    input_cost_micros: int
    input_revenue_micros: int
    unserved_paid_calls: int
    unserved_cost_micros: int
    unserved_without_cost: int
    net_margin_micros: int = Field(description="The margin less what unserved paid calls cost (where known)")


class MarginReport(BaseModel):
    object: Literal["operator.margin"] = "operator.margin"
    since: int
    until: int
    group_by: list[str]
    data: list[MarginRowView]
    total_revenue_micros: int
    total_upstream_cost_micros: int
    total_net_margin_micros: int


class UpstreamHealth(BaseModel):
    name: str
    kind: str
    models: list[str]
    state: Literal["closed", "open", "half_open"]
    open_until: int | None = None
    window_start: int | None = Field(default=None, description="When the breaker's current counting window began")
    window_seconds: int = Field(description="The breaker's window: its counts cover this long at most")
    calls: int = Field(description="Calls counted in the current window")
    failures: int
    failure_rate_percent: float | None = Field(default=None,
                                               description="failures / calls in the window; null without calls")
    trip_at_percent: int = Field(description="The failure rate that opens the breaker (with `min_calls` calls)")
    min_calls: int


class AlarmLink(BaseModel):
    name: str
    url: str = Field(description="The alarm in the CloudWatch console")


class UpstreamHealthReport(BaseModel):
    object: Literal["operator.upstreams"] = "operator.upstreams"
    at: int
    upstreams: list[UpstreamHealth]
    alarms: list[AlarmLink]
