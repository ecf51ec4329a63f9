"""The stored record of an Idempotency-Key: which request first used it, and the job that request created."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

KeyState = Literal["processing", "complete"]


class IdempotencyRecord(BaseModel):
    account_id: str
    key_hash: str = Field(description="SHA-256 of the client's key (keys are scoped per account)")
    operation: str = Field(description="The route it was used on, e.g. images.edits or jobs.cancel")
    fingerprint: str = Field(description="SHA-256 of the canonical request: parameters and input bytes")
    job_id: str
    # processing: written with the job, before the request that wrote it has queued it; complete once it has.
    state: KeyState
    created_at: int
    # The latest the request that wrote it can still be running (its function's deadline): a record still
    # `processing` after that belongs to a request that died, and is replayed like a complete one.
    in_flight_until: int
    expires_at: int
