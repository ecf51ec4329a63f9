"""Stored records of accounts, API keys and ledger entries (the authorizer needs only these)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


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
    # The open holds: job id -> micro-dollars held. Each hold is added and removed by one conditional atomic update
    # of this item (never a transaction), which is what makes reserve and release idempotent. Bounded by
    # max_in_flight; in_flight == len(holds).
    holds: dict[str, int] = {}


class ApiKeyRecord(BaseModel):
    key_hash: str
    key_id: str
    account_id: str
    prefix: str
    created_at: int
    revoked_at: int | None = None
    # What the key is for, as the person who created it in the console named it (None: issued by the admin tool).
    name: str | None = None
    # The most one MCP call made with this key may hold (micro-dollars), set by the operator (retouch-admin); the MCP
    # server applies the lower of this and its deployment's ceiling. None: the deployment's ceiling only.
    max_cost_per_call_micros: int | None = Field(default=None, ge=0)


class LedgerEntry(BaseModel):
    """One movement of an account's balance; the sum of an account's entries is its balance."""

    entry_id: str
    account_id: str
    job_id: str | None = None
    kind: Literal["credit", "reserve", "settle", "top_up", "reversal"]
    amount_micros: int
    # The balance just after this movement, as the movement's own atomic update of the account returned it. None
    # when not known: an operator's credit (a transaction, which returns no values) or a movement finished by the
    # sweeper after its writer died. The books are checked by sums (billing/reconcile.py), not by this chain.
    balance_after_micros: int | None = None
    at_ms: int
    note: str | None = None
    # settle only: what the job cost, what went back to the balance, how it ended, images produced.
    charged_micros: int | None = None
    released_micros: int | None = None
    outcome: str | None = None
    images: int | None = None
    end_user: str | None = None  # the job's end user (reserve and settle entries)
    # top_up and reversal only (payments/): the Stripe PaymentIntent and the event that moved it.
    payment_id: str | None = None
    stripe_event_id: str | None = None
    # credit only, from the console: the operator (their console user id) who made the adjustment.
    adjusted_by: str | None = None
