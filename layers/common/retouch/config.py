"""Typed settings, one model per function, read once from the environment and validated at cold start.

Plain pydantic models fed from `RETOUCH_*` variables: pydantic-settings would add ~60 ms to every cold start
for features (dotenv, secrets dirs, nested parsing) no function uses.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from functools import cache
from typing import Annotated, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from retouch.retry import DEFAULT_SCHEDULE, parse_schedule

ENV_PREFIX = "RETOUCH_"


class _RetouchSettings(BaseModel):
    """`Settings.from_environment()` reads the environment; `Settings(field=...)` takes explicit values (tests)."""

    # Each function validates one settings model: the others are never built (defer_build), only defined.
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    table_name: str = Field(min_length=1)

    @classmethod
    def from_environment(cls) -> Self:
        return cls.model_validate({name: os.environ[ENV_PREFIX + name.upper()] for name in cls.model_fields
                                   if ENV_PREFIX + name.upper() in os.environ})


def _blank_is_none(value: object) -> object:
    return None if value == "" else value


def _comma_list(value: object) -> object:
    return tuple(part.strip() for part in value.split(",") if part.strip()) if isinstance(value, str) else value


def _json_text(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value


# Upstream kind -> the URL its routing entries without `base_url` call (UpstreamBaseUrls; locally the stand-ins).
UpstreamBaseUrls = Annotated[dict[str, Annotated[str, Field(pattern=r"^https?://")]], BeforeValidator(_json_text)]

# Percent added to the price file's amounts; unset or "" keeps the file's own `markup_percent`.
MarkupPercent = Annotated[Annotated[int, Field(ge=0, le=1000)] | None, BeforeValidator(_blank_is_none),
                          Field(default=None)]


class AuthorizerSettings(_RetouchSettings):
    pass


HoldsPerAccount = Annotated[Annotated[int, Field(ge=1, le=1000)] | None, BeforeValidator(_blank_is_none),
                            Field(default=None)]


class _ReadLimitSettings(_RetouchSettings):
    # Per account and minute, every authenticated request that creates nothing (reads, cancels, deletes,
    # redeliveries, MCP requests), counted apart from submissions (the account's requests_per_minute); past it, 429.
    reads_per_minute: int = Field(default=600, ge=1, le=100_000)


class _PresigningSettings(_ReadLimitSettings):
    bucket_name: str = Field(min_length=3)
    url_expiry_seconds: int = Field(default=3600, ge=60, le=604800)


class ApiSettings(_PresigningSettings):
    jobs_queue_url: str = Field(min_length=1)
    max_wait_seconds: float = Field(default=25, ge=0, le=600)
    # Requests one account may hold open at once waiting for their jobs, well below the function's reserved
    # concurrency (jobs/holds.py): the sync entry's SyncHoldsPerAccount (past it, 429 sync_hold_limit_exceeded), the
    # api's WaitHoldsPerAccount (past it, a `Prefer: wait` is answered at once). Unset: not counted.
    holds_per_account: HoldsPerAccount
    # The sync entry behind its edge (SyncEdge CloudFrontWaf): the secret CloudFront adds as X-Retouch-Edge; requests
    # without it are refused (web/edge.py). Unset: no edge.
    edge_secret_arn: Annotated[str | None, BeforeValidator(_blank_is_none), Field(default=None)]
    # The synchronous entry (the sync function's Function URL) holds every submission until its job ends, up to
    # max_wait_seconds, as OpenAI's API does; `Prefer: respond-async` opts out.
    wait_by_default: bool = False
    # Whole-request cap; API Gateway and Lambda cap bodies lower in AWS (10 MB / 6 MB).
    max_body_bytes: int = Field(default=64 * 1024 * 1024, gt=0)
    # Webhooks: URLs are vetted at submit (allowlisted hosts are exempt from the private-address rule only);
    # redeliveries are queued.
    url_allowlist: str = ""
    webhooks_queue_url: str = Field(min_length=1)
    # Manual redeliveries (POST /v1/jobs/{id}/webhooks/redeliver) per job per clock hour; past it, 429.
    webhook_redeliveries_per_hour: int = Field(default=5, ge=1, le=100)
    price_markup_percent: MarkupPercent
    # Uploaded files (record and object) expire this long after their upload was created (FileExpiryHours).
    file_expiry_hours: int = Field(default=24, ge=1, le=168)
    # A presigned upload is accepted this long: a 50 MB file at 2 Mbit/s still fits.
    upload_url_expiry_seconds: int = Field(default=300, ge=60, le=3600)
    # The worker's routing document: a request none of a model's upstreams can serve is refused at submit.
    routing_document: str = Field(min_length=1)
    # Where an end user's erasure is queued (DELETE /v1/end_users/{user}); the api function's, not the sync's, which
    # serves no such route (wiring/api.py refuses to build without it).
    erasure_queue_url: Annotated[str | None, BeforeValidator(_blank_is_none)] = None
    # Upstream callbacks (POST /v1/upstream-callbacks/...): where fal publishes the keys its webhooks are signed with.
    fal_jwks_url: str = Field(default="https://rest.alpha.fal.ai/.well-known/jwks.json", min_length=1)

    @field_validator("routing_document")
    @classmethod
    def _routing_document_loads(cls, value: str) -> str:
        from retouch.routing.document import load_routing

        load_routing(value)  # an invalid document fails the cold start, as in the worker
        return value


class StatusSettings(_PresigningSettings):
    # Job event streams one account may hold open at once (WaitHoldsPerAccount); past it, a stream sends the events
    # so far and ends at once, and the client resumes. Unset: not counted.
    holds_per_account: HoldsPerAccount


class WorkerSettings(_RetouchSettings):
    bucket_name: str = Field(min_length=3)
    jobs_queue_url: str = Field(min_length=1)
    # Auto-recharge (payments/): a settlement that leaves an account under its threshold queues one recharge here.
    recharge_queue_url: str = Field(min_length=1)
    # The operator's SES sender for account alerts' e-mails (AlertSenderEmail); "" sends none.
    alert_sender_email: Annotated[str | None, BeforeValidator(_blank_is_none)] = None
    provider_base_url: str = Field(min_length=1)
    provider_secret_arn: str = Field(min_length=1)
    provider_timeout_seconds: float = Field(default=240, gt=0)
    retry_base_seconds: float = Field(default=15, ge=0)
    max_attempts: int = Field(default=4, ge=1, le=10)
    url_allowlist: str = ""
    # One deadline for all of a job's input URLs (fetched in parallel), not one per URL.
    url_fetch_timeout_seconds: float = Field(default=20, gt=0)
    # An account's jobs fetching input URLs at once (UrlFetchJobsPerAccount); more are deferred (jobs/fetch_share.py).
    url_fetch_jobs_per_account: int = Field(default=2, ge=1, le=100)
    # A claim lasts this long unless renewed; the heartbeat renews it (and the message) three times per lease,
    # so a dead worker's job runs again within about one lease.
    lease_seconds: int = Field(default=120, ge=3, le=900)
    webhooks_queue_url: str = Field(min_length=1)  # job events go here, off the worker's path
    price_markup_percent: MarkupPercent
    # The routing document (retouch/routing/<name>, or an absolute path): each model's upstreams, in order.
    routing_document: str = Field(min_length=1)
    # Secrets the routing document names must start with this (the worker's role may read only those).
    upstream_secrets_prefix: str = Field(min_length=1)
    upstream_base_urls: UpstreamBaseUrls = Field(default_factory=dict)
    # An asynchronous upstream's job is polled after its eta, at most this long (900: SQS's longest delay).
    max_poll_delay_seconds: int = Field(default=900, ge=1, le=900)
    # The HTTP API's URL, given to upstreams that call back when a job is done (fal's webhooks); unset: polls only.
    callback_base_url: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _routing_document_is_valid(self) -> WorkerSettings:
        from retouch.routing.document import load_routing
        from retouch.upstream_registry import UPSTREAMS

        document = load_routing(self.routing_document)
        outside = sorted(name for name in document.secret_names() if not name.startswith(self.upstream_secrets_prefix))
        if outside:
            raise ValueError(f"the routing document names secrets outside {self.upstream_secrets_prefix!r}: {outside}")
        unknown = sorted(set(self.upstream_base_urls) - set(UPSTREAMS))
        if unknown:
            raise ValueError(f"upstream base URLs for unknown upstream kinds: {unknown}")
        refused = sorted(url for url in {self.provider_base_url, *self.upstream_base_urls.values(),
                                         *(route.base_url for routes in document.models.values() for route in routes
                                           if route.base_url)}
                         if not _transport_is_safe(url, self.url_allowlist))
        if refused:
            raise ValueError(f"upstream base URLs must be https (plain http only to a loopback host on UrlAllowlist, "
                             f"the local stack's stand-ins): {refused}")
        nowhere = {route.name: route.kind for routes in document.models.values() for route in routes
                   if not UPSTREAMS[route.kind].documented_url and not self.base_url(route.kind, route.base_url)}
        if nowhere:
            kinds = "/".join(sorted(set(nowhere.values())))
            raise ValueError(f"{kinds} upstreams with no `base_url` (their kind has no documented URL, e.g. an "
                             f"Azure resource's endpoint): {sorted(nowhere)}")
        return self

    def base_url(self, kind: str, configured: str | None) -> str | None:
        """Where a routing entry of `kind` is called: its own `base_url`, else UpstreamBaseUrls' for its kind (None:
        the upstream's documented URL)."""
        return configured or self.upstream_base_urls.get(kind)


def _transport_is_safe(url: str, allowlist_text: str) -> bool:
    """https, or plain http to a loopback host the operator allowlisted (the local stack's stand-ins): an upstream's
    key and a job's prompt and images never cross a network in the clear."""
    from urllib.parse import urlsplit

    from retouch.outbound_http.url_safety import DEFAULT_PORTS, is_allowlisted, parse_allowlist

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    scheme, host = parts.scheme.lower(), (parts.hostname or "").rstrip(".").lower()
    if scheme == "https":
        return True
    if scheme != "http" or not _is_loopback(host):
        return False
    return is_allowlisted(host, port or DEFAULT_PORTS[scheme], parse_allowlist(allowlist_text))


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SweeperSettings(_RetouchSettings):
    """The sweeper: stranded jobs are queued again, or ended once too old (see retouch.jobs.sweep)."""

    bucket_name: str = Field(min_length=3)  # outputs of the jobs it ends are deleted
    jobs_queue_url: str = Field(min_length=1)
    webhooks_queue_url: str = Field(min_length=1)
    sweep_stall_grace_seconds: int = Field(default=300, ge=1, le=86400)
    sweep_give_up_seconds: int = Field(default=7200, ge=60, le=14 * 86400)
    price_markup_percent: MarkupPercent  # the same price table as every function that bills


class DeadLetterSettings(_RetouchSettings):
    webhooks_queue_url: str = Field(min_length=1)  # the failed event of an abandoned job
    price_markup_percent: MarkupPercent  # the same price table as every function that bills


class WebhookSettings(_RetouchSettings):
    """The webhook function: delivers events, retries on `webhook_retry_schedule`, dead-letters the rest."""

    bucket_name: str = Field(min_length=3)
    webhooks_queue_url: str = Field(min_length=1)
    webhooks_dead_letter_queue_url: str = Field(min_length=1)
    webhook_timeout_seconds: float = Field(default=10, gt=0, le=30)
    webhook_retry_schedule: str = DEFAULT_SCHEDULE
    # Output URLs in event payloads stay valid this long, so a receiver can fetch them later.
    webhook_url_expiry_seconds: int = Field(default=86400, ge=60, le=604800)
    url_allowlist: str = ""

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _valid_schedule(cls, value: str) -> str:
        parse_schedule(value)
        return value

    @property
    def retry_schedule(self) -> tuple[int, ...]:
        return parse_schedule(self.webhook_retry_schedule)


class EraserSettings(_RetouchSettings):
    """The eraser: one batch of an end user's erasure per message (retouch/end_users/erasure.py)."""

    bucket_name: str = Field(min_length=3)
    erasure_queue_url: str = Field(min_length=1)  # the next batch
    price_markup_percent: MarkupPercent  # the same price table as every function that bills (queued jobs canceled)


class PaymentsSettings(_ReadLimitSettings):
    """The payments function (top-ups, payments, Stripe's webhook); amounts in whole dollars as the template takes
    them."""

    stripe_secret_arn: str = Field(min_length=1)  # JSON {"secret_key", "webhook_secret"}; never logged
    webhooks_queue_url: str = Field(min_length=1)  # account.recharge_failed (payments/alerts.py)
    # The operator's SES sender for account alerts' e-mails (AlertSenderEmail); "" sends none.
    alert_sender_email: Annotated[str | None, BeforeValidator(_blank_is_none)] = None
    # Another Stripe API base URL (the local stand-in); "" is Stripe's own.
    stripe_api_base: Annotated[str | None, BeforeValidator(_blank_is_none)] = None
    top_up_minimum_usd: int = Field(default=5, ge=1)
    top_up_maximum_usd: int = Field(default=500, ge=1, le=100_000)
    top_up_currency: str = Field(default="usd", pattern="^usd$")  # the ledger is in dollars
    checkout_return_url: str = Field(min_length=1, pattern=r"^https?://")

    @model_validator(mode="after")
    def _range(self) -> Self:
        if self.top_up_minimum_usd > self.top_up_maximum_usd:
            raise ValueError("top_up_minimum_usd is above top_up_maximum_usd")
        return self


class RechargeSettings(_RetouchSettings):
    """The recharge function: one off-session PaymentIntent per claimed crossing (payments/auto_recharge.py)."""

    stripe_secret_arn: str = Field(min_length=1)
    webhooks_queue_url: str = Field(min_length=1)  # account.recharge_failed (payments/alerts.py)
    # The operator's SES sender for account alerts' e-mails (AlertSenderEmail); "" sends none.
    alert_sender_email: Annotated[str | None, BeforeValidator(_blank_is_none)] = None
    stripe_api_base: Annotated[str | None, BeforeValidator(_blank_is_none)] = None
    top_up_currency: str = Field(default="usd", pattern="^usd$")


class AdminSettings(_RetouchSettings):
    """The admin tool: the table of a deployed or local stack."""


@cache
def authorizer_settings() -> AuthorizerSettings:
    return AuthorizerSettings.from_environment()


@cache
def api_settings() -> ApiSettings:
    return ApiSettings.from_environment()


@cache
def status_settings() -> StatusSettings:
    return StatusSettings.from_environment()


@cache
def worker_settings() -> WorkerSettings:
    return WorkerSettings.from_environment()


@cache
def sweeper_settings() -> SweeperSettings:
    return SweeperSettings.from_environment()


@cache
def dead_letter_settings() -> DeadLetterSettings:
    return DeadLetterSettings.from_environment()


@cache
def webhook_settings() -> WebhookSettings:
    return WebhookSettings.from_environment()


# ---- issue 22: the MCP server (functions/mcp) ------------------------------------------------------------------


class McpSettings(_ReadLimitSettings):
    """The mcp function: the API it calls for each caller (its own key forwarded), the per-call spend ceiling an agent
    cannot raise, how long a task-less image call waits (see retouch.mcp), and the reads per minute each of its
    requests counts against (retouch/mcp/request_limit.py)."""

    api_base_url: str = Field(pattern=r"^https?://")
    # Micro-dollars one MCP call may hold at most (McpMaxCostPerCallMicros); unset or "": only the account's credit.
    mcp_max_cost_per_call_micros: Annotated[Annotated[int, Field(ge=0)] | None, BeforeValidator(_blank_is_none),
                                            Field(default=None)]
    price_markup_percent: MarkupPercent  # the hold the guard checks is the API's, at the same markup
    mcp_max_wait_seconds: float = Field(default=60, ge=0, le=600)
    mcp_preview_bytes: int = Field(default=1_000_000, ge=0, le=4_000_000)  # all previews of one answer, before base64


@cache
def eraser_settings() -> EraserSettings:
    return EraserSettings.from_environment()


# ---- issue 21: the console's backend (functions/console) ---------------------------------------------------------


class ConsoleSettings(ApiSettings, PaymentsSettings):
    """The console function: the public route groups it mounts read the api's, status's and payments' settings (the
    same variables, the same values), plus the user pool people sign in to and what a new account gets."""

    user_pool_id: str = Field(min_length=1)
    user_pool_client_id: str = Field(min_length=1)
    # Credit a self-serve account starts with (ConsoleSignUpCreditUsd), in dollars; 0 gives none.
    sign_up_credit_usd: Decimal = Field(default=Decimal(0), ge=0, le=100_000, decimal_places=2)
    # The console's own origin (`https://console.example.com`), the only Origin an unsafe request may carry (CSRF);
    # unset: the request's own host (the console and its API on one origin, as `make run` and CloudFront serve them).
    console_origin: Annotated[Annotated[str, Field(pattern=r"^https?://[^/]+$")] | None,
                              BeforeValidator(_blank_is_none), Field(default=None)]
    # Attempts on the auth routes per minute (console/limits.py): from one client address, and for one e-mail.
    auth_attempts_per_address: int = Field(default=30, ge=1, le=10_000)
    auth_attempts_per_email: int = Field(default=10, ge=1, le=1000)
    # The operator's upstream health page links the stack's CloudWatch alarms (names as CloudFormation made them,
    # comma-separated) in the console of the stack's region.
    region: str = Field(min_length=1)
    alarm_names: Annotated[tuple[str, ...], BeforeValidator(_comma_list)] = ()
