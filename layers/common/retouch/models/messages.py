"""Queue message models."""

from __future__ import annotations

from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, Field, Json

from retouch.models.common import JobId


class JobMessage(BaseModel):
    job_id: JobId
    # Set on the delayed message that polls an asynchronous upstream: which pending call it continues.
    poll_seq: int | None = None


class JobMessageRecord(SqsRecordModel):
    body: Json[JobMessage]


class RechargeMessage(BaseModel):
    """One claimed crossing of an account's auto-recharge threshold (payments/auto_recharge.py)."""

    account_id: str = Field(min_length=1)
    claim: str = Field(min_length=1)


class RechargeMessageRecord(SqsRecordModel):
    body: Json[RechargeMessage]
