"""Job events: their ids and payloads, and announcing them (queueing them for the webhook function).

At-least-once: an event is queued first and recorded in the job's `webhook.emitted` after, with a
conditional append. A worker that dies in between leaves it unrecorded, so the next delivery of
the job's message (which finds the job ended) queues it again; the event id is derived from the
job and the event type, so the receiver sees the same `webhook-id` and can drop the duplicate.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from retouch.errors import NoWebhookEvent, QueueUnavailable, RateLimited
from retouch.jobs.view import render_job
from retouch.models.records import JobRecord
from retouch.models.webhooks import WebhookEventType, WebhookMessage
from retouch.ports import JobRepository, JobWebhookLog, ObjectStore, RedeliveryCounter, WebhookQueue
from retouch.retry import EMIT_RETRY_SECONDS, RedeliverLater

logger = Logger(child=True)

def event_id(job_id: str, event_type: str) -> str:
    """Deterministic per job and event: `evt_<job id without job_>_<succeeded|failed|…>`."""
    return f"evt_{job_id.removeprefix('job_')}_{event_type.removeprefix('job.')}"


def event_time(job: JobRecord, event_type: str) -> int:
    """When the event happened: the start for job.started, the end for the others."""
    if event_type == "job.started":
        return job.started_at or job.created_at
    return job.completed_at or job.started_at or job.created_at


_TERMINAL_EVENTS: dict[str, WebhookEventType] = {"succeeded": "job.succeeded", "failed": "job.failed",
                                                 "canceled": "job.canceled"}


def terminal_event(job: JobRecord) -> WebhookEventType | None:
    return _TERMINAL_EVENTS.get(job.status) if job.is_terminal else None


def build_message(job: JobRecord, event_type: WebhookEventType, *, redelivery: bool = False) -> WebhookMessage:
    if job.webhook is None:
        raise ValueError(f"job {job.job_id} has no webhook")
    snapshot = job.model_dump(mode="json", exclude={"webhook", "claim_token", "lease_until"}, exclude_none=True)
    return WebhookMessage(
        event_id=event_id(job.job_id, event_type),
        type=event_type,
        job_id=job.job_id,
        account_id=job.account_id,
        url=job.webhook.url,
        created_at=event_time(job, event_type),
        job=snapshot,
        redelivery=redelivery,
    )


def payload_body(message: WebhookMessage, store: ObjectStore, url_expiry_seconds: int) -> bytes:
    """The POST body: `{"type", "id", "created_at", "data": <the job as GET shows it>}`.

    Outputs are always URLs here (presigned now, valid `url_expiry_seconds`), never inline base64;
    the job's own webhook log is left out of `data`."""
    if message.job is None:  # an account's event (payments/alerts.py): its data as it was made
        data = message.data or {}
    else:
        view = render_job(JobRecord.model_validate(message.job), store, url_expiry_seconds, images_as_urls=True)
        data = view.model_dump(mode="json", exclude_none=True, exclude={"webhook"})
    payload = {"type": message.type, "id": message.event_id, "created_at": message.created_at, "data": data}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Announcer:
    """`announce(job, event_type)`: queue the event if the job subscribed to it and it is not queued yet."""

    jobs: JobRepository
    log: JobWebhookLog
    queue: WebhookQueue

    def __call__(self, job: JobRecord | str, event_type: WebhookEventType | None = None) -> None:
        """`job` may be a record (skips a read when it has no webhook) or a job id; with no `event_type`,
        the event of the job's terminal status, if it has ended (re-emission after a crash).

        A terminal event that cannot be queued raises RedeliverLater (the job's message comes back to re-emit
        it); job.started is best-effort (logged), so a queue outage never leaves a claimed job without its message."""
        if isinstance(job, JobRecord) and (job.webhook is None
                                           or (event_type and event_type not in job.webhook.events)):
            return
        if event_type == "job.started":
            try:
                self._announce(job, event_type)
            except Exception:
                logger.exception("job.started event not queued", extra={"job_id": _job_id(job)})
            return
        self._announce(job, event_type)

    def _announce(self, job: JobRecord | str, event_type: WebhookEventType | None) -> None:
        current = self.jobs.get(_job_id(job))
        if current is None or current.webhook is None:
            return
        event_type = event_type or terminal_event(current)
        if event_type is None or event_type not in current.webhook.events or event_type in current.webhook.emitted:
            return
        extra = {"job_id": current.job_id, "event_type": event_type}
        try:
            self.queue.send(build_message(current, event_type))
        except QueueUnavailable as exc:
            if event_type == "job.started":
                raise
            logger.warning("event not queued; the job's message comes back to emit it", extra=extra)
            raise RedeliverLater(EMIT_RETRY_SECONDS, "terminal event not queued") from exc
        self.log.mark_emitted(current.job_id, event_type)
        logger.info("webhook event queued", extra=extra)


def _job_id(job: JobRecord | str) -> str:
    return job if isinstance(job, str) else job.job_id


def latest_event(job: JobRecord) -> WebhookEventType | None:
    """The job's most recent event that was queued (what a redelivery sends again)."""
    if job.webhook is None or not job.webhook.emitted:
        return None
    return job.webhook.emitted[-1]


REDELIVERY_WINDOW_SECONDS = 3600


@dataclass(frozen=True)
class RedeliveryBudget:
    """At most `per_hour` manual redeliveries per job in each clock hour, counted on the job item."""

    counter: RedeliveryCounter
    per_hour: int


def redeliver_latest(job: JobRecord, queue: WebhookQueue, budget: RedeliveryBudget,
                     now: float | None = None) -> WebhookMessage:
    """Queue the job's latest event again, same id, as the job is now; its attempts start over. Each one is counted
    against the job's hourly `budget` first (429 with Retry-After past it): every redelivery is a signed POST to the
    subscriber's URL and a queue message, so a loop of them must not be free."""
    event_type = latest_event(job)
    if event_type is None:
        raise NoWebhookEvent(
            "This job has no webhook event to redeliver yet." if job.webhook else "This job has no webhook.",
            param="job_id",
        )
    _count_redelivery(job, budget, time.time() if now is None else now)
    message = build_message(job, event_type, redelivery=True)
    queue.send(message)
    logger.info("webhook event queued again", extra={"job_id": job.job_id, "event_id": message.event_id})
    return message


def _count_redelivery(job: JobRecord, budget: RedeliveryBudget, now: float) -> None:
    window = int(now // REDELIVERY_WINDOW_SECONDS)
    counted = budget.counter.count_redelivery(job.job_id, window, budget.per_hour)
    if not counted.admitted:
        reset = max(1, int((window + 1) * REDELIVERY_WINDOW_SECONDS - now + 0.999))
        logger.info("webhook redelivery refused: budget spent", extra={"job_id": job.job_id, "count": counted.count})
        raise RateLimited(f"Redelivery limit reached: {budget.per_hour} per job per hour. Retry in {reset} s.",
                          retry_after_seconds=reset)
