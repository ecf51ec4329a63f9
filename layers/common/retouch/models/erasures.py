"""An end user's erasure (DELETE /v1/end_users/{user}): stored record and client view."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

ErasureStatus = Literal["running", "completed"]


class ErasureRecord(BaseModel):
    erasure_id: str
    account_id: str
    end_user: str
    status: ErasureStatus = "running"
    created_at: int
    completed_at: int | None = None
    jobs_erased: int = 0
    files_erased: int = 0
    objects_deleted: int = 0
    jobs_waiting: int = 0  # running when the last batch looked: erased once they end
    batches: int = 0
    expires_at: int  # the table's TTL: the record is kept 30 days after it was asked for


class ErasureView(BaseModel):
    object: Literal["erasure"] = "erasure"
    id: str
    user: str
    status: ErasureStatus
    created_at: int
    completed_at: int | None = None
    jobs_erased: int
    files_erased: int
    objects_deleted: int
    jobs_waiting: int = Field(description="Jobs still running when last looked at; erased once they end")
