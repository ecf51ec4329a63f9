"""Delivering one event (the webhook function's logic): sign, POST, log the attempt, then retry, stop or dead-letter.

2xx: delivered. 410 Gone: stop retrying that event. Anything else (3xx, 4xx, 5xx, timeout,
connection error, URL refused): retry after the schedule's next delay by pushing the SQS
message's visibility out; after the last attempt the event goes to the DLQ. The job's own state
is never touched here, only its `webhook` log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from aws_lambda_powertools import Logger

from retouch.models.common import now_epoch
from retouch.models.webhooks import (
    EVENT_TYPES,
    MAX_DELIVERIES_SHOWN,
    DeliveryOutcome,
    DeliveryRecord,
    SendResult,
    WebhookMessage,
)
from retouch.observability.metrics import webhook_attempted
from retouch.observability.tracing import correlate
from retouch.ports import JobWebhookLog, WebhookQueue, WebhookSettingsRepository
from retouch.retry import RedeliverLater, retry_delay, total_attempts
from retouch.webhooks.signing import signed_headers

logger = Logger(child=True)

GONE = 410


# How an attempt shows in the job's delivery log: anything that is neither delivered nor retried has failed.
_LOGGED_OUTCOME: dict[str, DeliveryOutcome] = {"delivered": "delivered", "retry": "retrying"}


@dataclass(frozen=True)
class Outcome:
    kind: Literal["delivered", "retry", "gone", "exhausted", "duplicate"]
    attempt: int
    delay_seconds: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class DeliveryDeps:
    settings: WebhookSettingsRepository
    log: JobWebhookLog
    queue: WebhookQueue
    render: Callable[[WebhookMessage], bytes]  # the POST body
    send: Callable[[str, bytes, dict[str, str]], SendResult]
    schedule: tuple[int, ...]
    clock: Callable[[], int] = field(default=now_epoch)


def attempt_event(message: WebhookMessage, attempt: int, deps: DeliveryDeps) -> Outcome:
    """One attempt (1-based) of one event; logs it on the job (a job's event) and says what comes next."""
    if not message.redelivery and message.job_id is not None:
        webhook = deps.log.get(message.job_id)
        if webhook is not None and message.event_id in webhook.delivered:
            return Outcome("duplicate", attempt)  # a re-emitted event whose first copy got through
    now = deps.clock()
    result = _send(message, now, deps)
    webhook_attempted(delivered=result.delivered)
    if result.delivered:
        outcome = Outcome("delivered", attempt)
    elif result.status_code == GONE:
        outcome = Outcome("gone", attempt, error="HTTP 410: the receiver is gone; no more attempts")
    else:
        delay = retry_delay(attempt, deps.schedule)
        if delay is None:
            error = f"{result.error}; gave up after {attempt} attempts"
            outcome = Outcome("exhausted", attempt, error=error)
        else:
            outcome = Outcome("retry", attempt, delay_seconds=delay, error=result.error)
    if message.job_id is None or message.type not in EVENT_TYPES:
        return outcome  # an account's event: no job to log it on (the function's log lines say what happened)
    deps.log.record_delivery(message.job_id, DeliveryRecord(
        event_id=message.event_id, type=message.type, attempt=attempt, status_code=result.status_code, at=now,
        error=outcome.error if outcome.kind != "delivered" else None,
        outcome=_LOGGED_OUTCOME.get(outcome.kind, "failed"),
    ), keep=MAX_DELIVERIES_SHOWN)
    if outcome.kind == "delivered":
        deps.log.mark_delivered(message.job_id, message.event_id)
    return outcome


def _send(message: WebhookMessage, now: int, deps: DeliveryDeps) -> SendResult:
    account = deps.settings.get(message.account_id)
    secrets = account.signing_secrets(now) if account else []
    if not secrets:
        return SendResult(None, "the account has no webhook signing secret")
    body = deps.render(message)
    return deps.send(message.url, body, signed_headers(secrets, message.event_id, now, body))


def handle_webhook_message(message: WebhookMessage, attempt: int, receipt_handle: str, deps: DeliveryDeps) -> str:
    """One received message. A retry pushes the message's visibility out and raises RedeliverLater so the
    batch reports it failed (it stays queued); an exhausted event is sent to the DLQ and the message deleted."""
    # Events of a batch run on threads; an account's event (no job) is followed by its event id.
    correlate(message.job_id or message.event_id, message.account_id, this_thread_only=True)
    outcome = attempt_event(message, attempt, deps)
    extra = {"event_id": message.event_id, "job_id": message.job_id, "type": message.type, "attempt": attempt,
             "outcome": outcome.kind, "error": outcome.error}
    if outcome.kind == "retry" and outcome.delay_seconds is not None:  # (a retry always has its delay)
        logger.info("webhook attempt failed; retrying", extra={**extra, "delay_seconds": outcome.delay_seconds,
                                                                "attempts": total_attempts(deps.schedule)})
        deps.queue.delay_redelivery(receipt_handle, outcome.delay_seconds)
        raise RedeliverLater(outcome.delay_seconds, f"webhook {message.event_id}")
    if outcome.kind == "exhausted":
        logger.warning("webhook event dead-lettered", extra=extra)
        deps.queue.dead_letter(message, outcome.error or "attempts exhausted")
    elif outcome.kind == "gone":
        logger.warning("webhook receiver gone", extra=extra)
    else:
        logger.info("webhook " + outcome.kind, extra=extra)
    return outcome.kind
