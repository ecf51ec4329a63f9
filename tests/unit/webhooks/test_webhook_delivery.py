"""One attempt of one event: what is logged on the job, and whether it retries, stops or is dead-lettered."""

from __future__ import annotations

from contextlib import suppress

import pytest
from standardwebhooks import Webhook

from retouch.retry import RedeliverLater
from retouch.webhooks.delivery import DeliveryDeps, attempt_event, handle_webhook_message
from tests.fakes import FakeSettings
from tests.unit.webhooks.builders import SCHEDULE, delivery_setup


def test_a_2xx_is_delivered_logged_and_signed():
    message, deps, receiver, log, _, secret = delivery_setup(200)
    outcome = attempt_event(message, 1, deps)
    assert outcome.kind == "delivered"
    [entry] = log.webhooks[message.job_id].deliveries
    assert (entry.event_id, entry.type, entry.attempt, entry.status_code, entry.outcome, entry.error) == (
        message.event_id, "job.succeeded", 1, 200, "delivered", None)
    assert log.webhooks[message.job_id].delivered == [message.event_id]
    url, body, headers = receiver.requests[0]
    assert url == message.url and Webhook(secret).verify(body, headers) == {"ok": True}
    assert headers["webhook-id"] == message.event_id


@pytest.mark.parametrize("status", [None, 301, 400, 404, 429, 500])
def test_other_answers_retry_after_the_scheduled_delay(status):
    message, deps, _, log, _, _ = delivery_setup(status)
    outcome = attempt_event(message, 2, deps)
    assert outcome.kind == "retry" and 27 <= outcome.delay_seconds <= 33
    assert log.webhooks[message.job_id].deliveries[-1].outcome == "retrying"


def test_410_gone_stops_without_retry_or_dead_letter():
    message, deps, _, log, queue, _ = delivery_setup(410)
    assert handle_webhook_message(message, 1, "rh", deps) == "gone"
    assert queue.delays == [] and queue.dead == []
    assert log.webhooks[message.job_id].deliveries[-1].outcome == "failed"


def test_a_retry_pushes_the_message_visibility_out_and_fails_the_record():
    message, deps, _, _, queue, _ = delivery_setup(500)
    with pytest.raises(RedeliverLater):
        handle_webhook_message(message, 1, "receipt-1", deps)
    assert queue.delays and queue.delays[0][0] == "receipt-1" and 4 <= queue.delays[0][1] <= 6


def test_after_the_last_attempt_the_event_is_dead_lettered_and_the_job_shows_it_failed():
    message, deps, _, log, queue, _ = delivery_setup(503)
    assert handle_webhook_message(message, len(SCHEDULE) + 1, "rh", deps) == "exhausted"
    assert [m.event_id for m, _ in queue.dead] == [message.event_id] and queue.delays == []
    entry = log.webhooks[message.job_id].deliveries[-1]
    assert entry.outcome == "failed" and entry.status_code == 503 and "gave up after 4 attempts" in entry.error


def test_a_duplicate_of_a_delivered_event_is_not_sent_again_but_a_redelivery_is():
    message, deps, receiver, _, _, _ = delivery_setup(200, 200)
    attempt_event(message, 1, deps)
    assert attempt_event(message, 1, deps).kind == "duplicate" and len(receiver.requests) == 1
    again = message.model_copy(update={"redelivery": True})
    assert attempt_event(again, 1, deps).kind == "delivered" and len(receiver.requests) == 2
    assert receiver.requests[1][2]["webhook-id"] == message.event_id


def test_without_a_signing_secret_the_attempt_fails_and_retries():
    message, deps, receiver, log, _, _ = delivery_setup(200)
    deps = DeliveryDeps(**{**deps.__dict__, "settings": FakeSettings()})
    assert attempt_event(message, 1, deps).kind == "retry" and receiver.requests == []
    assert "no webhook signing secret" in log.webhooks[message.job_id].deliveries[-1].error


def test_the_log_keeps_only_the_latest_twenty_attempts():
    message, deps, _, log, _, _ = delivery_setup(*([500] * 25))
    deps = DeliveryDeps(**{**deps.__dict__, "schedule": (0,) * 20})
    for attempt in range(1, 26):
        with suppress(RedeliverLater):
            handle_webhook_message(message, attempt, "rh", deps)
    deliveries = log.webhooks[message.job_id].deliveries
    assert len(deliveries) == 20 and deliveries[-1].attempt == 25
