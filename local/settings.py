"""What a developer may set for `make run`, read once from the environment and validated."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from local.aws.dynamodb_contention import DEFAULT_HOLD_SECONDS
from retouch.secret_placeholders import is_unset


class LocalSettings(BaseSettings):
    # An empty variable counts as unset (`OPENAI_API_KEY= make run` means "use the stand-in").
    model_config = SettingsConfigDict(frozen=True, extra="ignore", populate_by_name=True, env_ignore_empty=True)

    port: int = Field(default=3000, ge=0, le=65535, validation_alias="PORT")
    # A fixed key survives restarts (scripts keep working); unset, a new key is issued per start.
    api_key: str | None = Field(default=None, min_length=1, validation_alias="RETOUCH_LOCAL_API_KEY")
    provider_delay: float = Field(default=1.0, ge=0, validation_alias="RETOUCH_LOCAL_PROVIDER_DELAY")
    # Set: the worker calls the real OpenAI API with it; unset: the local stand-in provider answers.
    openai_api_key: SecretStr | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    url_allowlist: str = Field(default="", validation_alias="RETOUCH_URL_ALLOWLIST")
    # Set: top-ups go to Stripe itself (a test-mode key; events through `stripe listen --forward-to`, whose printed
    # secret is STRIPE_WEBHOOK_SECRET, required with it); unset: the Stripe stand-in, with its own webhook secret.
    stripe_secret_key: SecretStr | None = Field(default=None, validation_alias="STRIPE_SECRET_KEY")
    stripe_webhook_secret: SecretStr | None = Field(default=None, validation_alias="STRIPE_WEBHOOK_SECRET")
    # The password of the console operator `make run` seeds; unset: a new one each run (the banner shows it).
    operator_password: SecretStr | None = Field(default=None, min_length=12,
                                                validation_alias="RETOUCH_LOCAL_OPERATOR_PASSWORD")
    # As in AWS: the api function's 29 s Timeout (API Gateway's 30 s integration limit) bounds any wait.
    max_wait_seconds: float = Field(default=25, ge=0, le=600, validation_alias="RETOUCH_MAX_WAIT_SECONDS")
    # Unset: each SQS event source as the template caps it (ScalingConfig.MaximumConcurrency), 4 where it has no cap.
    poller_concurrency: int | None = Field(default=None, ge=1, le=32,
                                           validation_alias="RETOUCH_LOCAL_POLLER_CONCURRENCY")
    # How long the local DynamoDB's transactions hold their items, so overlapping writes conflict as in AWS
    # (TransactionConflict; see local.aws.dynamodb_contention for the default's reasoning); 0 turns conflicts off.
    transaction_hold_seconds: float = Field(default=DEFAULT_HOLD_SECONDS, ge=0, le=5,
                                            validation_alias="RETOUCH_LOCAL_TRANSACTION_HOLD_SECONDS")
    # Per function: how many invocations run at once, each in its own process (Lambda's execution environments).
    max_environments: int = Field(default=8, ge=1, le=64, validation_alias="RETOUCH_LOCAL_MAX_ENVIRONMENTS")
    # The synchronous entry (the sync function's Function URL) listens here; 0 picks any free port.
    sync_port: int = Field(default=3001, ge=0, le=65535, validation_alias="RETOUCH_LOCAL_SYNC_PORT")
    # The worker's provider timeout locally (ProviderTimeoutSeconds; 240 s in AWS): short, so a timeout fault of the
    # stand-in (which hangs past it) is retried in seconds.
    provider_timeout_seconds: float = Field(default=10, ge=1, le=840,
                                            validation_alias="RETOUCH_LOCAL_PROVIDER_TIMEOUT_SECONDS")
    # Scheduled functions (the sweeper) fire this often locally instead of their template rate; unset keeps it.
    schedule_seconds: float | None = Field(default=60, gt=0, validation_alias="RETOUCH_LOCAL_SCHEDULE_SECONDS")
    # The functions' JSON log lines on the console: one short line each, or the full JSON (the log file keeps JSON).
    log_format: Literal["short", "json"] = Field(default="short", validation_alias="RETOUCH_LOCAL_LOG_FORMAT")
    # The worker's routing while the stand-ins run (without OPENAI_API_KEY): gpt-image-2 edits go to ModelsLab, then
    # Runflow, then OpenAI, so `[fault:modelslab:503]` in a prompt shows a fallback. With a real key: the template's.
    routing_document: Path = Field(default=Path(__file__).resolve().parent / "stand_ins" / "routing.json",
                                   validation_alias="RETOUCH_LOCAL_ROUTING_DOCUMENT")

    @model_validator(mode="after")
    def _stripe_keys_together(self) -> LocalSettings:
        """Stripe itself needs both keys: payments refuse a placeholder or missing webhook secret (503), so
        `make run` says so at start instead."""
        if self.stripe_secret_key is None:
            return self
        if is_unset(self.stripe_secret_key.get_secret_value()):
            raise ValueError("STRIPE_SECRET_KEY is a placeholder: set a test-mode key, or unset it for the stand-in")
        if self.stripe_webhook_secret is None or is_unset(self.stripe_webhook_secret.get_secret_value()):
            raise ValueError("STRIPE_SECRET_KEY needs STRIPE_WEBHOOK_SECRET too (the whsec_ secret `stripe listen` "
                             "prints); unset both for the stand-in")
        return self
