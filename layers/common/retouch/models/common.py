"""Reusable annotated field types and time helpers shared by request, record and response models."""

from __future__ import annotations

import secrets
import time
from typing import Annotated, Literal

from pydantic import Field

JOB_ID_PATTERN = r"^job_[A-Za-z0-9]{24}$"  # new_job_id's shape
JobId = Annotated[str, Field(pattern=JOB_ID_PATTERN, description="Job identifier")]
FILE_ID_PATTERN = r"^file_[A-Za-z0-9]{24}$"
AccountId = Annotated[str, Field(pattern=r"^acct_[A-Za-z0-9]{16,32}$", description="Account identifier")]
Quality = Literal["low", "medium", "high", "auto"]
OutputFormat = Literal["png", "jpeg", "webp"]
Background = Literal["transparent", "opaque", "auto"]
Moderation = Literal["low", "auto"]
ResponseFormat = Literal["url", "b64_json"]
JobKind = Literal["edit", "generation"]
JobStatus = Literal["queued", "running", "succeeded", "failed", "canceled"]
TERMINAL_STATUSES: frozenset[str] = frozenset({"succeeded", "failed", "canceled"})
FileStatus = Literal["pending", "ready", "rejected"]

_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def random_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_job_id() -> str:
    return random_id("job_")


def new_file_id() -> str:
    return random_id("file_")


def now_epoch() -> int:
    return int(time.time())
