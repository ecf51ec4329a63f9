"""Reusable annotated field types and time helpers shared by request, record and response models."""

from __future__ import annotations

import re
import secrets
import time
from typing import Annotated, Any, Literal

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

# A signed amount as a person types it: ASCII digits only (Python's Decimal would also take "١٢", "1_000", " 5 ",
# "1e2"), an optional leading minus, at most 6 decimals (a micro-dollar).
PLAIN_AMOUNT = re.compile(r"-?[0-9]+(\.[0-9]{1,6})?")


def plain_amount(value: Any) -> Any:
    """A before-validator for a Decimal amount: a string must be PLAIN_AMOUNT; a JSON number passes (its grammar is
    ASCII already); a bool is refused (JSON true is no amount)."""
    if isinstance(value, bool) or (isinstance(value, str) and not PLAIN_AMOUNT.fullmatch(value)):
        raise ValueError("must be a plain decimal such as \"25.00\" or \"-2.5\": ASCII digits, an optional leading "
                         "minus, at most 6 decimals, no spaces")
    return value


def printable(value: str) -> str:
    """An after-validator for text shown to people: printable characters only (no control characters, line
    breaks, or invisible format characters such as a right-to-left override)."""
    if not value.isprintable():
        raise ValueError("must be printable characters only (no control characters or line breaks)")
    return value


_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def random_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_job_id() -> str:
    return random_id("job_")


def new_file_id() -> str:
    return random_id("file_")


def now_epoch() -> int:
    return int(time.time())
