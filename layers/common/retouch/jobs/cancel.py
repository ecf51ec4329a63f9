"""Canceling a job: only while it is `queued` (fal's rule: a running job's provider call is already paid for).

The cancellation is the job's `queued -> canceled` (conditional on `queued`, nothing produced and its hold taken),
with the request's Idempotency-Key when it has one, then its whole hold released with a settle entry
(billing/charges.py). A worker that later
receives the job's message cannot claim it (claims take only `queued` jobs or expired leases) and drops it, after
queueing the job's `job.canceled` event if it was not queued yet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from retouch.billing.charges import JobBilling
from retouch.errors import JobNotCancelable
from retouch.jobs.idempotency import KeyedRequest, Outcome, once, replayed_job
from retouch.jobs.view import find_job
from retouch.models.common import now_epoch
from retouch.models.records import JobRecord
from retouch.observability.metrics import job_canceled
from retouch.ports import IdempotencyStore, JobQueue, JobRepository

logger = Logger(child=True)


@dataclass(frozen=True)
class CancelDeps:
    jobs: JobRepository
    billing: JobBilling
    queue: JobQueue
    keys: IdempotencyStore
    # Queues a job event for webhooks: announce(job, "job.canceled").
    announce: Callable[..., None]


def _refuse_unless_cancelable(job: JobRecord) -> None:
    if job.status == "running":
        raise JobNotCancelable(f"Job '{job.job_id}' is already running: its provider call is paid for, so it can "
                               "no longer be canceled.", param="job_id")
    if job.is_terminal:
        raise JobNotCancelable(f"Job '{job.job_id}' has already ended ({job.status}).", param="job_id")
    if job.produced is not None:
        raise JobNotCancelable(f"Job '{job.job_id}' has already produced its images; it will finish shortly.",
                               param="job_id")


def _announce(job: JobRecord, deps: CancelDeps) -> None:
    try:
        deps.announce(job, "job.canceled")
    except Exception:
        logger.exception("job.canceled not queued; a worker will announce it", extra={"job_id": job.job_id})
        deps.queue.send(job.job_id, tenant=job.account_id)


def _cancel(account_id: str, job_id: str, deps: CancelDeps, keyed: KeyedRequest | None) -> JobRecord:
    job = find_job(deps.jobs, account_id, job_id)
    _refuse_unless_cancelable(job)
    now = now_epoch()
    key = keyed.reservation(job.job_id, now=now, state="complete") if keyed else None
    if not deps.billing.cancel(job, now=now, key=key):
        # A worker claimed it (or something ended it) since it was read: refused as that state is.
        current = deps.jobs.get(job_id) or job
        _refuse_unless_cancelable(current)
        raise JobNotCancelable(f"Job '{job_id}' could not be canceled; read it again.", param="job_id")
    canceled = deps.jobs.get(job_id) or job.model_copy(update={"status": "canceled", "completed_at": now})
    job_canceled()
    logger.info("job canceled", extra={"job_id": job_id, "account_id": account_id})
    _announce(canceled, deps)
    return canceled


def cancel_job(account_id: str, job_id: str, deps: CancelDeps, *, idempotency: KeyedRequest | None = None,
               ) -> Outcome:
    """The canceled job; 404 for a job the caller cannot see, 409 `job_not_cancelable` unless it is queued. Under
    an Idempotency-Key, a repeat replays the first cancellation's job."""
    return once(idempotency, deps.keys, lambda keyed: _cancel(account_id, job_id, deps, keyed),
                lambda canceled_id: replayed_job(deps.jobs, account_id, canceled_id))
