"""Device tokens: short-lived bearer tokens an app backend mints for one of its end users (a phone), limited to
scopes, that user's own jobs and a spend cap. Request, stored-record and response models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from retouch.models.end_users import Dollars, EndUserId

# What a device token may be allowed; web/client_token_scopes.py maps each route to the one it needs.
Scope = Literal["uploads:create", "images:edit", "images:generate", "jobs:read", "jobs:cancel"]
MAX_TOKEN_SECONDS = 3600


class ClientTokenRequest(BaseModel):
    """`POST /v1/client_tokens` (account key only)."""

    model_config = ConfigDict(extra="forbid")

    user: EndUserId
    scopes: list[Scope] = Field(min_length=1, description="What the token may do, each once")
    spend_cap_usd: Dollars = Field(description="Most the token's jobs may hold and spend, in dollars")
    # Strict: JSON's true is not a number of seconds (pydantic would read it as 1).
    expires_in: StrictInt = Field(default=900, ge=60, le=MAX_TOKEN_SECONDS, description="Seconds, at most 3600")

    @field_validator("scopes")
    @classmethod
    def _each_scope_once(cls, scopes: list[Scope]) -> list[Scope]:
        if len(set(scopes)) != len(scopes):
            raise ValueError("each scope may be named once")
        return scopes


class ClientTokenRecord(BaseModel):
    token_id: str
    account_id: str
    end_user: str
    scopes: list[Scope]
    secret_hash: str  # SHA-256 of the token's secret part; the token itself is shown once
    spend_cap_micros: int
    committed_micros: int = 0  # held by its in-flight jobs plus charged to its ended ones
    holds: dict[str, int] = Field(default_factory=dict)
    created_at: int
    valid_until: int
    expires_at: int  # the table's TTL: a day after valid_until, so late settlements still find it
    revoked_at: int | None = None


class ClientTokenView(BaseModel):
    object: Literal["client_token"] = "client_token"
    id: str
    token: str | None = Field(default=None, description="The bearer token; shown only when minted")
    user: str
    scopes: list[Scope]
    spend_cap_usd: float
    spend_cap_micros: int
    committed_micros: int
    created_at: int
    expires_at: int = Field(description="Unix time the token stops working")
    expires_in: int | None = None
    revoked: bool
