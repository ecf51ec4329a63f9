"""The job repository's terminal transitions as the contract tests call them: `end` with a typed transition and
nothing to give back (these jobs hold no credit; billing's own contract tests cover the release)."""

from __future__ import annotations

from retouch import ports
from retouch.models.idempotency import IdempotencyRecord
from retouch.models.outcome import JobOutcome
from retouch.models.records import JobError
from retouch.models.transitions import Cancel, FailUnfinished, Finish


def finish(jobs: ports.JobRepository, job_id: str, *, token: str, outcome: JobOutcome) -> bool:
    return jobs.end(Finish(job_id, token, outcome), release_micros=0)


def fail_unfinished(jobs: ports.JobRepository, job_id: str, *, error: JobError, now: int) -> bool:
    return jobs.end(FailUnfinished(job_id, error, now), release_micros=0)


def cancel(jobs: ports.JobRepository, job_id: str, *, now: int, key: IdempotencyRecord | None = None) -> bool:
    return jobs.end(Cancel(job_id, now), release_micros=0, key=key)
