"""The webhook function's handler, fed real-shaped SQS events from a moto queue, delivering to a verifying
receiver on loopback: delivered, retried with the message's visibility pushed out, dead-lettered, not redirected."""

from __future__ import annotations

import importlib.util
import json
import secrets
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from retouch.data.jobs import JobRepository
from retouch.data.webhooks import WebhookQueue, WebhookSettingsRepository
from retouch.models.common import now_epoch
from retouch.models.records import JobRecord
from retouch.models.webhooks import JobWebhook
from retouch.webhooks.account import rotate_secret
from retouch.webhooks.events import build_message
from tests.integration.webhooks.receiver import Receiver

ROOT = Path(__file__).resolve().parents[3]
SCHEDULE = "0,0"  # three attempts, no waiting


def load_handler() -> Any:
    """functions/webhook/app.py as Lambda loads it: a fresh module, so its cached settings are this test's."""
    name = f"webhook_app_{secrets.token_hex(4)}"
    spec = importlib.util.spec_from_file_location(name, ROOT / "functions" / "webhook" / "app.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.lambda_handler


@pytest.fixture
def handler(aws, monkeypatch):
    from retouch import config

    for name, value in {"RETOUCH_TABLE_NAME": aws.table, "RETOUCH_BUCKET_NAME": aws.bucket,
                        "RETOUCH_WEBHOOKS_QUEUE_URL": aws.queue_url,
                        "RETOUCH_WEBHOOKS_DEAD_LETTER_QUEUE_URL": aws.dead_letter_url,
                        "RETOUCH_WEBHOOK_RETRY_SCHEDULE": SCHEDULE, "RETOUCH_WEBHOOK_TIMEOUT_SECONDS": "3",
                        "RETOUCH_URL_ALLOWLIST": "127.0.0.1",
                        # template.yaml's Globals: the handler flushes its metrics under this namespace
                        "POWERTOOLS_SERVICE_NAME": "retouch", "POWERTOOLS_METRICS_NAMESPACE": "Retouch"}.items():
        monkeypatch.setenv(name, value)
    config.webhook_settings.cache_clear()
    from retouch.data import clients

    clients.aws_client.cache_clear()  # the handler's clients are built under this test's moto
    yield load_handler()
    config.webhook_settings.cache_clear()
    clients.aws_client.cache_clear()


def context() -> SimpleNamespace:
    return SimpleNamespace(function_name="webhook", memory_limit_in_mb=256, aws_request_id="req",
                           invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:webhook",
                           get_remaining_time_in_millis=lambda: 180_000)


def sqs_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    sample = json.loads((ROOT / "events" / "sqs_webhook.json").read_text())["Records"][0]
    return {"Records": [{**sample, "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"],
                         "body": m["Body"], "attributes": {**sample["attributes"], **m["Attributes"]}}
                        for m in messages]}


def ended_job(aws, url: str) -> tuple[JobRecord, str]:
    now = now_epoch()
    record = JobRecord(job_id="job_" + secrets.token_hex(12), account_id="acct_" + secrets.token_hex(8),
                       kind="generation", status="failed", model="gpt-image-2", request={"prompt": "x"},
                       error={"code": "moderation_blocked", "message": "blocked"}, created_at=now - 5,
                       started_at=now - 4, completed_at=now, expires_at=now + 3600,
                       webhook=JobWebhook(url=url, events=["job.failed"], emitted=["job.failed"]))
    JobRepository(aws.table, aws.dynamodb).create(record)
    secret = rotate_secret(WebhookSettingsRepository(aws.table, aws.dynamodb), record.account_id)
    WebhookQueue(aws.queue_url, client=aws.sqs).send(build_message(record, "job.failed"))
    return record, secret


def deliver_once(aws, handler) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    messages = aws.receive(aws.queue_url)
    response = handler(sqs_event(messages), context())
    failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
    for message in messages:
        if message["MessageId"] not in failed:
            aws.sqs.delete_message(QueueUrl=aws.queue_url, ReceiptHandle=message["ReceiptHandle"])
    return messages, response


def deliveries(aws, job_id: str) -> list[dict[str, Any]]:
    webhook = JobRepository(aws.table, aws.dynamodb).get(job_id).webhook
    return [d.model_dump() for d in webhook.deliveries]


def test_a_2xx_is_delivered_once_verified_and_logged_on_the_job(aws, handler):
    with Receiver(secrets=[]) as receiver:
        record, secret = ended_job(aws, receiver.url)
        receiver.secrets.append(secret)
        _, response = deliver_once(aws, handler)
        [request] = receiver.wait_for(1, timeout=5)
    assert response == {"batchItemFailures": []}
    assert request.verified_by == [0] and request.payload["type"] == "job.failed"
    assert request.payload["data"]["id"] == record.job_id and request.payload["data"]["status"] == "failed"
    assert [(d["attempt"], d["status_code"], d["outcome"]) for d in deliveries(aws, record.job_id)] == [
        (1, 200, "delivered")]
    assert aws.receive(aws.queue_url) == []


def test_failures_retry_with_one_webhook_id_then_the_event_is_dead_lettered(aws, handler):
    with Receiver(secrets=[]) as receiver:
        receiver.script(500, 503, 500)
        record, _ = ended_job(aws, receiver.url)
        for attempt in (1, 2, 3):
            messages, response = [], {}
            deadline = time.monotonic() + 5
            while not messages and time.monotonic() < deadline:  # the retry's visibility is 0 s
                messages, response = deliver_once(aws, handler)
            assert messages, f"attempt {attempt} never came back"
            expected_failures = [] if attempt == 3 else [{"itemIdentifier": messages[0]["MessageId"]}]
            assert response == {"batchItemFailures": expected_failures}
        requests = receiver.wait_for(3, timeout=5)
    assert len(requests) == 3 and len({r.webhook_id for r in requests}) == 1
    assert [d["outcome"] for d in deliveries(aws, record.job_id)] == ["retrying", "retrying", "failed"]
    assert "gave up after 3 attempts" in deliveries(aws, record.job_id)[-1]["error"]
    [dead] = aws.receive(aws.dead_letter_url)
    assert json.loads(dead["Body"])["event_id"] == requests[0].webhook_id
    assert JobRepository(aws.table, aws.dynamodb).get(record.job_id).status == "failed"  # the job is untouched


def test_a_redirect_is_a_failed_attempt_and_is_not_followed(aws, handler):
    with Receiver(secrets=[]) as receiver:
        receiver.script((302, {"location": receiver.url.replace("/hooks", "/elsewhere")}))
        record, _ = ended_job(aws, receiver.url)
        _, response = deliver_once(aws, handler)
        time.sleep(0.3)
        paths = [r.path for r in receiver.requests]
    assert paths == ["/hooks"] and len(response["batchItemFailures"]) == 1
    assert deliveries(aws, record.job_id)[-1]["status_code"] == 302


def test_410_gone_stops_at_once(aws, handler):
    with Receiver(secrets=[]) as receiver:
        receiver.script(410)
        record, _ = ended_job(aws, receiver.url)
        _, response = deliver_once(aws, handler)
    assert response == {"batchItemFailures": []}
    assert aws.receive(aws.queue_url) == [] and aws.receive(aws.dead_letter_url) == []
    assert deliveries(aws, record.job_id)[-1]["outcome"] == "failed"


def test_five_slow_receivers_of_one_account_do_not_delay_another_accounts_event(aws, handler):
    # Given one batch holding five events of one account, whose receivers each answer "200 OK" and then drip a
    # header forever, and after them one event of another account, whose receiver answers at once
    import threading

    from tests.integration.providers.hostile import header_drip, hostile

    with hostile(header_drip()) as slow, Receiver(secrets=[]) as fast:
        slow_jobs = [ended_job(aws, slow.url(f"/hook{i}"))[0] for i in range(5)]
        other, secret = ended_job(aws, fast.url)
        fast.secrets.append(secret)
        messages = aws.receive(aws.queue_url)
        messages.sort(key=lambda m: json.loads(m["Body"])["job_id"] == other.job_id)  # the fast one last
        assert len(messages) == 6

        # When the webhook function handles the batch
        responses: list[dict[str, Any]] = []
        started = time.monotonic()
        invocation = threading.Thread(target=lambda: responses.append(handler(sqs_event(messages), context())))
        invocation.start()
        [request] = fast.wait_for(1, timeout=30)
        delay = time.monotonic() - started
        slow_attempts_ended_by_then = len(slow.closed_at)
        invocation.join(timeout=60)
        slow_contacted = len(slow.connections)
        batch_seconds = time.monotonic() - started

    # Then the other account's event was delivered before any slow attempt ended (it waited for none of them),
    # all five slow receivers were tried, each failed at its deadline (3 s), and only they come back for a retry
    print(f"\n5 slow receivers + 1 fast: the other account's event was delivered after {delay:.3f} s; "
          f"the batch took {batch_seconds:.2f} s")
    assert request.payload["data"]["id"] == other.job_id
    assert slow_attempts_ended_by_then == 0 and slow_contacted == 5
    failed = {f["itemIdentifier"] for f in responses[0]["batchItemFailures"]}
    assert failed == {m["MessageId"] for m in messages if json.loads(m["Body"])["job_id"] != other.job_id}
    for job in slow_jobs:
        [attempt] = deliveries(aws, job.job_id)
        assert attempt["outcome"] == "retrying" and attempt["error"] == "no answer within 3 s"
    assert deliveries(aws, other.job_id)[0]["outcome"] == "delivered"
