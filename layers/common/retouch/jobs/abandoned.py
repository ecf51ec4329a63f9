"""Jobs whose queue messages ran out of receives end `failed` rather than staying `running` forever."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from retouch.models.common import now_epoch
from retouch.models.records import JobError
from retouch.observability.metrics import job_failed
from retouch.observability.tracing import correlate

if TYPE_CHECKING:
    from retouch.billing.charges import JobBilling

logger = Logger(child=True)


def end_abandoned_job(job_id: str, billing: JobBilling, announce: Callable[..., None]) -> bool:
    correlate(job_id)
    error = JobError(code="processing_failed", message="The job could not be processed; it was not charged.")
    # Ends it, then releases its whole hold (billing/charges.py: the end is conditional, so it happens once).
    ended = billing.release_unfinished(job_id, error=error, now=now_epoch())
    if ended:
        job_failed(error.code)
    logger.warning("abandoned job", extra={"job_id": job_id, "ended": ended})
    announce(job_id)  # job.failed; or an already ended job's event if a crash kept it from being queued
    return ended


def end_abandoned_message(body: str, billing: JobBilling, announce: Callable[..., None]) -> bool:
    """A dead-lettered message; an unreadable one is logged and dropped (retrying it cannot help)."""
    from pydantic import ValidationError

    from retouch.models.messages import JobMessage

    try:
        message = JobMessage.model_validate_json(body)
    except ValidationError:
        logger.error("unreadable dead-lettered message dropped", extra={"body": body[:200]})
        return False
    if message.late_hold is not None:  # a late-hold check the worker could not run: no job to end, a hold to check
        from retouch.jobs.late_holds import release_late_hold

        release_late_hold(message.job_id, message.late_hold, billing)
        return True
    return end_abandoned_job(message.job_id, billing, announce)
