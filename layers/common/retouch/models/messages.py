"""Queue message models."""

from __future__ import annotations

from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, Field, Json

from retouch.models.common import JobId


class LateHoldCheck(BaseModel):
    """A discarded job's hold, checked for later (jobs/late_holds.py): whose account, how much."""

    account_id: str = Field(min_length=1)
    micros: int = Field(gt=0)


class JobMessage(BaseModel):
    job_id: JobId
    # Set on the delayed message that polls an asynchronous upstream: which pending call it continues.
    poll_seq: int | None = None
    # Set on the delayed message that checks for a hold landing after its job was discarded.
    late_hold: LateHoldCheck | None = None
    # Whether running the job fetches input URLs, as its sender knew (the submit, a deferral); None: unknown, so the
    # worker reads the job before claiming it. False spares a plain job that read (inputs never change).
    fetches_urls: bool | None = None


class JobMessageRecord(SqsRecordModel):
    body: Json[JobMessage]


class RechargeMessage(BaseModel):
    """One claimed crossing of an account's auto-recharge threshold (payments/auto_recharge.py)."""

    account_id: str = Field(min_length=1)
    claim: str = Field(min_length=1)


class RechargeMessageRecord(SqsRecordModel):
    body: Json[RechargeMessage]
