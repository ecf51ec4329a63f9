"""Job events from the worker and the dead-letter path, against moto: queued once per event, re-emitted
when a crash after the job's end kept them from being queued."""

from __future__ import annotations

import io
import json
import secrets

from PIL import Image

from retouch.billing.charges import JobBilling
from retouch.billing.prices import price_table
from retouch.data.jobs import JobRepository
from retouch.data.ledger import LedgerRepository
from retouch.data.objects import ObjectStore
from retouch.data.webhooks import JobWebhookLog, WebhookQueue
from retouch.jobs.abandoned import end_abandoned_job
from retouch.jobs.process import WorkerDeps, run_job
from retouch.models.common import now_epoch
from retouch.models.records import JobRecord
from retouch.models.webhooks import JobWebhook, WebhookMessage
from retouch.providers.base import ProviderImage, ProviderRefused, ProviderResult
from retouch.webhooks.events import Announcer, event_id
from tests.fakes import FakeJobQueue, no_events
from tests.fakes.routing import routing_deps
from tests.fakes.wiring import fetch_share_over


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (1, 2, 3)).save(buffer, format="PNG")
    return buffer.getvalue()


class Provider:
    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse

    def generate(self, *, options):
        if self.refuse:
            raise ProviderRefused("moderation_blocked", "blocked by the safety system")
        return ProviderResult(images=[ProviderImage(png(), "image/png")])

    def edit(self, **kwargs):
        raise AssertionError("generations only here")


def new_job(aws, events=("job.started", "job.succeeded", "job.failed")) -> JobRecord:
    now = now_epoch()
    record = JobRecord(job_id="job_" + secrets.token_hex(12), account_id="acct_" + secrets.token_hex(8),
                       kind="generation", status="queued", model="gpt-image-2",
                       request={"prompt": "a cat", "n": 1, "response_format": "url"}, created_at=now,
                       expires_at=now + 3600,
                       webhook=JobWebhook(url="https://hooks.example.com/h", events=list(events)))
    JobRepository(aws.table, aws.dynamodb).create(record)
    return record


def worker(aws, *, provider=None, announce=True) -> WorkerDeps:
    jobs = JobRepository(aws.table, aws.dynamodb)
    announcer = Announcer(jobs=jobs, log=JobWebhookLog(aws.table, aws.dynamodb),
                          queue=WebhookQueue(aws.queue_url, client=aws.sqs))
    billing = JobBilling(ledger=LedgerRepository(aws.table, aws.dynamodb), jobs=jobs, prices=price_table())
    return WorkerDeps(jobs=jobs, store=ObjectStore(aws.bucket, aws.s3),
                      routing=routing_deps([provider or Provider()], jobs.record_attempts),
                      schedule_poll=lambda *_poll: None,
                      fetch_url=lambda url, seconds_left: b"", max_attempts=3, retry_base_seconds=0, lease_seconds=900,
                      announce=announcer if announce else no_events, billing=billing,
                      fetch_share=fetch_share_over(FakeJobQueue()))


def queued_events(aws) -> list[WebhookMessage]:
    messages = aws.receive(aws.queue_url)
    return sorted((WebhookMessage.model_validate_json(m["Body"]) for m in messages), key=lambda m: m.created_at)


def test_a_succeeded_job_queues_started_then_succeeded_once_each(aws):
    # Given a job subscribed to started and succeeded
    record = new_job(aws)
    # When the worker runs it, and its message is delivered a second time
    assert run_job(record.job_id, worker(aws)) == "succeeded"
    assert run_job(record.job_id, worker(aws)) == "skipped_succeeded"
    # Then each event is on the webhooks queue once, with its deterministic id and a snapshot of the job
    events = queued_events(aws)
    assert sorted(m.type for m in events) == ["job.started", "job.succeeded"]
    succeeded = next(m for m in events if m.type == "job.succeeded")
    assert succeeded.event_id == event_id(record.job_id, "job.succeeded")
    assert succeeded.job["status"] == "succeeded" and succeeded.job["outputs"]
    assert JobRepository(aws.table, aws.dynamodb).get(record.job_id).webhook.emitted == ["job.started", "job.succeeded"]


def test_a_refused_job_queues_job_failed(aws):
    record = new_job(aws, events=("job.failed",))
    assert run_job(record.job_id, worker(aws, provider=Provider(refuse=True))) == "failed"
    [event] = queued_events(aws)
    assert event.type == "job.failed" and event.job["error"]["code"] == "moderation_blocked"


def test_a_crash_between_the_end_and_the_event_is_repaired_by_the_next_delivery(aws):
    # Given a worker that ended the job but died before queueing its event
    record = new_job(aws, events=("job.succeeded",))
    assert run_job(record.job_id, worker(aws, announce=False)) == "succeeded"
    assert queued_events(aws) == []
    # When the job's message comes back (it was never deleted)
    assert run_job(record.job_id, worker(aws)) == "skipped_succeeded"
    # Then the event is queued, once
    assert [m.type for m in queued_events(aws)] == ["job.succeeded"]
    assert run_job(record.job_id, worker(aws)) == "skipped_succeeded"
    assert queued_events(aws) == []


def test_an_abandoned_job_announces_job_failed(aws):
    record = new_job(aws, events=("job.failed",))
    deps = worker(aws)
    assert end_abandoned_job(record.job_id, deps.billing, deps.announce)
    [event] = queued_events(aws)
    assert event.type == "job.failed" and event.job["error"]["code"] == "processing_failed"


def test_the_webhook_log_appends_are_conditional(aws):
    record = new_job(aws)
    log = JobWebhookLog(aws.table, aws.dynamodb)
    assert log.mark_emitted(record.job_id, "job.started") is True
    assert log.mark_emitted(record.job_id, "job.started") is False
    assert log.mark_emitted("job_" + "0" * 24, "job.started") is False  # no such job
    stored = json.dumps(JobRepository(aws.table, aws.dynamodb).get(record.job_id).webhook.model_dump())
    assert stored.count("job.started") == 2  # once in events, once in emitted


def record_failed_attempts(log: JobWebhookLog, job_id: str, count: int, *, keep: int) -> None:
    """Attempts 1..count of one event, each answered 500, logged as the webhook function logs them."""
    from retouch.models.webhooks import DeliveryRecord

    for attempt in range(1, count + 1):
        log.record_delivery(job_id, DeliveryRecord(event_id="evt_x", type="job.succeeded", attempt=attempt,
                                                   status_code=500, at=now_epoch(), error="HTTP 500",
                                                   outcome="retrying"), keep=keep)


def test_the_delivery_log_keeps_only_the_latest_attempts(aws):
    record = new_job(aws)
    log = JobWebhookLog(aws.table, aws.dynamodb)
    record_failed_attempts(log, record.job_id, 7, keep=5)
    kept = JobRepository(aws.table, aws.dynamodb).get(record.job_id).webhook.deliveries
    assert [d.attempt for d in kept] == [3, 4, 5, 6, 7]


def test_two_trims_that_raced_never_leave_fewer_than_keep(aws):
    # Given a log of 7 for keep=5, after two concurrent deliveries saw 6 and 7 entries (excess 1 and 2)
    record = new_job(aws)
    log = JobWebhookLog(aws.table, aws.dynamodb)
    record_failed_attempts(log, record.job_id, 7, keep=10)
    # When the first trims its one, then the second its two
    log._trim(record.job_id, 1, 5)
    log._trim(record.job_id, 2, 5)
    # Then the second saw it would go below keep and removed nothing (before: 4 left)
    kept = JobRepository(aws.table, aws.dynamodb).get(record.job_id).webhook.deliveries
    assert [d.attempt for d in kept] == [2, 3, 4, 5, 6, 7]
