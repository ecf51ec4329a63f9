"""Typed settings, one model per function, read once from the environment and validated at cold start."""

from __future__ import annotations

from functools import cache

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class _RetouchSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RETOUCH_", frozen=True, extra="ignore")

    table_name: str = Field(min_length=1)


class AuthorizerSettings(_RetouchSettings):
    pass


class _PresigningSettings(_RetouchSettings):
    bucket_name: str = Field(min_length=3)
    url_expiry_seconds: int = Field(default=3600, ge=60, le=604800)


class ApiSettings(_PresigningSettings):
    jobs_queue_url: str = Field(min_length=1)
    max_wait_seconds: float = Field(default=25, ge=0, le=600)
    # Whole-request cap; API Gateway and Lambda cap bodies lower in AWS (10 MB / 6 MB).
    max_body_bytes: int = Field(default=64 * 1024 * 1024, gt=0)


class StatusSettings(_PresigningSettings):
    pass


class WorkerSettings(_RetouchSettings):
    bucket_name: str = Field(min_length=3)
    jobs_queue_url: str = Field(min_length=1)
    provider_base_url: str = Field(min_length=1)
    provider_secret_arn: str = Field(min_length=1)
    provider_timeout_seconds: float = Field(default=240, gt=0)
    retry_base_seconds: float = Field(default=15, ge=0)
    max_attempts: int = Field(default=4, ge=1, le=10)
    url_allowlist: str = ""
    url_fetch_timeout_seconds: float = Field(default=20, gt=0)
    # Leased for as long as the function may run, so a crashed worker's job can be re-claimed after.
    lease_seconds: int = Field(default=900, gt=0)


class DeadLetterSettings(_RetouchSettings):
    pass


class AdminSettings(_RetouchSettings):
    """The admin tool: the table of a deployed or local stack."""


class ProviderKeyOverride(BaseSettings):
    """Lets a developer run the worker against a key without Secrets Manager (never set in AWS)."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")
    openai_api_key: SecretStr | None = None


@cache
def authorizer_settings() -> AuthorizerSettings:
    return AuthorizerSettings()


@cache
def api_settings() -> ApiSettings:
    return ApiSettings()


@cache
def status_settings() -> StatusSettings:
    return StatusSettings()


@cache
def worker_settings() -> WorkerSettings:
    return WorkerSettings()


@cache
def dead_letter_settings() -> DeadLetterSettings:
    return DeadLetterSettings()
