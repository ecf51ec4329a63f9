"""Jobs whose queue messages ran out of receives end `failed` rather than staying `running` forever."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from retouch.data.jobs import JobRepository
from retouch.models.common import now_epoch
from retouch.models.records import JobError

logger = Logger(child=True)


def end_abandoned_job(job_id: str, jobs: JobRepository) -> bool:
    ended = jobs.fail_unfinished(
        job_id,
        error=JobError(code="processing_failed", message="The job could not be processed; it was not charged."),
        now=now_epoch(),
    )
    logger.warning("abandoned job", extra={"job_id": job_id, "ended": ended})
    return ended


def end_abandoned_message(body: str, jobs: JobRepository) -> bool:
    """A dead-lettered message; an unreadable one is logged and dropped (retrying it cannot help)."""
    from pydantic import ValidationError

    from retouch.models.messages import JobMessage

    try:
        message = JobMessage.model_validate_json(body)
    except ValidationError:
        logger.error("unreadable dead-lettered message dropped", extra={"body": body[:200]})
        return False
    return end_abandoned_job(message.job_id, jobs)
