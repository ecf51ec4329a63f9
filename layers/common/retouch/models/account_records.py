"""Stored records of accounts, API keys and ledger entries (the authorizer needs only these)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


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
    # Ids of the account's revoked keys, kept on this item so the submit path (which reads it anyway, to count
    # the request) refuses a revoked key at once, while the authorizer's 30 s cache may still pass it.
    revoked_key_ids: list[str] = []


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
