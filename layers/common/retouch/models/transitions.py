"""The unit of consistency, named: how a job ends, as the domain hands it to the job store.

A job's end is one conditional write on its own item (never on the account, so jobs of one account never contend):
the transition below, plus `release_pending` (the micro-dollars its hold gives back, set until the account has them
and the settle entry is written; see billing/charges.py). The DynamoDB adapter (data/jobs.py) turns each into its
update expression and condition; the in-memory fake applies it by type.
"""

from __future__ import annotations

from dataclasses import dataclass

from retouch.models.outcome import JobOutcome
from retouch.models.records import JobError


@dataclass(frozen=True)
class Finish:
    """running, claimed under `token` -> the outcome's status (succeeded or failed)."""

    job_id: str
    token: str
    outcome: JobOutcome


@dataclass(frozen=True)
class Cancel:
    """queued, nothing produced yet -> canceled (the owner's request)."""

    job_id: str
    now: int


@dataclass(frozen=True)
class FailUnfinished:
    """queued, or running with an expired lease -> failed: the job's messages are gone (dead-lettered, never sent,
    stranded past the sweeper's give-up age)."""

    job_id: str
    error: JobError
    now: int


JobEnd = Finish | Cancel | FailUnfinished
