"""Announcing job events: subscription, once per event, re-emission after a crash, and the payload."""

from __future__ import annotations

import json

import pytest

from retouch.errors import NoWebhookEvent, RateLimited
from retouch.retry import RedeliverLater
from retouch.webhooks.events import (
    Announcer,
    RedeliveryBudget,
    build_message,
    event_id,
    payload_body,
    redeliver_latest,
)
from tests.fakes import FakeJobRepository, FakeObjectStore, FakeWebhookLog, FakeWebhookQueue
from tests.unit.webhooks.builders import job, subscribed


def announcer(*records):
    log = FakeWebhookLog()
    jobs, queue = FakeJobRepository(webhooks=log), FakeWebhookQueue()
    for record in records:
        jobs.add(record)
    return Announcer(jobs=jobs, log=log, queue=queue), jobs, log, queue


def test_event_ids_are_deterministic_per_job_and_type():
    assert event_id("job_abc", "job.succeeded") == "evt_abc_succeeded"
    assert event_id("job_abc", "job.succeeded") != event_id("job_abc", "job.started")


def test_a_job_without_webhook_is_not_even_read():
    announce, jobs, _, queue = announcer(record := job())
    announce(record, "job.succeeded")
    assert queue.sent == [] and jobs.reads == 0


def test_a_subscribed_event_is_queued_once_and_recorded():
    record = job(webhook=subscribed())
    announce, _, log, queue = announcer(record)
    announce(record, "job.succeeded")
    announce(record, "job.succeeded")
    assert [m.event_id for m in queue.sent] == [event_id(record.job_id, "job.succeeded")]
    assert log.webhooks[record.job_id].emitted == ["job.succeeded"]
    assert queue.sent[0].url == record.webhook.url and queue.sent[0].created_at == record.completed_at


def test_an_event_the_job_did_not_subscribe_to_is_not_queued():
    record = job(webhook=subscribed(events=("job.failed",)))
    announce, _, _, queue = announcer(record)
    announce(record, "job.succeeded")
    assert queue.sent == []


def test_an_ended_job_whose_event_was_never_queued_gets_it_on_redelivery():
    # Given a job that succeeded but whose worker died before queueing the event
    record = job(webhook=subscribed())
    announce, _, _, queue = announcer(record)
    # When the job's message comes back and the worker announces "whatever ended it"
    announce(record.job_id)
    # Then the terminal event is queued with its usual id
    assert [m.type for m in queue.sent] == ["job.succeeded"]
    assert queue.sent[0].event_id == event_id(record.job_id, "job.succeeded")


def test_a_running_job_has_no_terminal_event_to_announce():
    record = job(status="running", webhook=subscribed())
    announce, _, _, queue = announcer(record)
    announce(record.job_id)
    assert queue.sent == []


def test_a_terminal_event_that_cannot_be_queued_asks_for_the_job_message_again():
    record = job(webhook=subscribed())
    announce, _, log, queue = announcer(record)
    queue.fail_sends = 1
    with pytest.raises(RedeliverLater) as caught:
        announce(record, "job.succeeded")
    assert caught.value.delay_seconds > 0 and log.webhooks[record.job_id].emitted == []
    announce(record)  # the next delivery of the job's message
    assert [m.type for m in queue.sent] == ["job.succeeded"]


def test_a_start_event_that_cannot_be_queued_never_stops_the_job():
    record = job(status="running", webhook=subscribed())
    announce, _, _, queue = announcer(record)
    queue.fail_sends = 1
    announce(record, "job.started")  # no exception
    assert queue.sent == []


def test_the_payload_is_the_job_as_get_shows_it_with_urls_even_for_b64_jobs():
    record = job(webhook=subscribed(), response_format="b64_json")
    body = payload_body(build_message(record, "job.succeeded"), FakeObjectStore(), 86400)
    payload = json.loads(body)
    assert set(payload) == {"type", "id", "created_at", "data"}
    assert payload["type"] == "job.succeeded" and payload["id"] == event_id(record.job_id, "job.succeeded")
    data = payload["data"]
    assert data["id"] == record.job_id and data["status"] == "succeeded" and data["object"] == "image.job"
    assert "X-Amz-Expires=86400" in data["data"][0]["url"] and "b64_json" not in data["data"][0]
    assert "webhook" not in data and "claim_token" not in json.dumps(payload)


def test_redelivery_queues_the_latest_event_again_with_the_same_id():
    record = job(webhook=subscribed())
    record.webhook.emitted = ["job.started", "job.succeeded"]
    queue = FakeWebhookQueue()
    message = redeliver_latest(record, queue, RedeliveryBudget(FakeJobRepository(), per_hour=5))
    assert message.redelivery and message.event_id == event_id(record.job_id, "job.succeeded")
    assert queue.sent == [message]


@pytest.mark.parametrize("webhook", [None, subscribed()])
def test_redelivery_without_an_event_is_a_409(webhook):
    with pytest.raises(NoWebhookEvent) as caught:
        redeliver_latest(job(webhook=webhook), FakeWebhookQueue(), RedeliveryBudget(FakeJobRepository(), per_hour=5))
    assert caught.value.status_code == 409


def test_redeliveries_past_the_jobs_hourly_budget_are_429_until_the_next_hour():
    # Given a job with an event and a budget of 2 redeliveries per job per hour
    record = job(webhook=subscribed())
    record.webhook.emitted = ["job.succeeded"]
    queue, budget = FakeWebhookQueue(), RedeliveryBudget(FakeJobRepository(), per_hour=2)
    hour = 1_800_000_000 - 1_800_000_000 % 3600

    # When it is redelivered three times 10 minutes into an hour
    redeliver_latest(record, queue, budget, now=hour + 600)
    redeliver_latest(record, queue, budget, now=hour + 600)
    with pytest.raises(RateLimited) as refused:
        redeliver_latest(record, queue, budget, now=hour + 600)

    # Then the third is a 429 telling when the hour ends, nothing more is queued, and the next hour admits again
    assert refused.value.status_code == 429 and refused.value.headers["Retry-After"] == "3000"
    assert len(queue.sent) == 2
    redeliver_latest(record, queue, budget, now=hour + 3600)
    assert len(queue.sent) == 3


def test_the_budget_is_per_job():
    # Given two jobs and a budget of one redelivery per job per hour, the first job's spent
    first, second = job(webhook=subscribed()), job(webhook=subscribed())
    first.webhook.emitted = second.webhook.emitted = ["job.succeeded"]
    queue, budget = FakeWebhookQueue(), RedeliveryBudget(FakeJobRepository(), per_hour=1)
    redeliver_latest(first, queue, budget, now=7200)

    # When the second job is redelivered in the same hour, Then it is queued
    redeliver_latest(second, queue, budget, now=7200)
    assert [m.job_id for m in queue.sent] == [first.job_id, second.job_id]
