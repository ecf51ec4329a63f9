"""GET /v1/jobs/{job_id}/events on the status function (behind API Gateway, buffered), invoked with
events/get_job_events.json against moto: the job's events after `Last-Event-ID`, each with its id, a partial as a
presigned link, `retry:` for the client's reconnection, and a foreign job's events refused like the job."""

from __future__ import annotations

import json

from retouch.data.job_partials import JobPartialsRepository
from retouch.data.jobs import JobRepository
from retouch.data.objects import ObjectStore
from retouch.models.records import JobRecord
from retouch.ports import PartialFrame
from retouch.providers.sse import parse_events
from tests.builders import job_event, new_account_id, new_job_id
from tests.integration.core.aws_stack import Stack, client

T0 = 1_790_000_000


def succeeded_job_with_a_partial(stack: Stack, account_id: str) -> str:
    record = JobRecord(job_id=new_job_id(), account_id=account_id, kind="generation", status="succeeded",
                       model="gpt-image-2", request={"prompt": "p", "partial_images": 1}, created_at=T0,
                       started_at=T0 + 1, completed_at=T0 + 60, expires_at=T0 + 86400)
    JobRepository(stack.table, client("dynamodb")).create(record)
    key = f"outputs/{record.job_id}/partials/0-abc.png"
    ObjectStore(stack.bucket, client("s3")).put(key, b"\x89PNG preview", "image/png")
    JobPartialsRepository(stack.table, client("dynamodb")).add(
        record.job_id, PartialFrame(index=0, key=key, output_format="png", at=T0 + 30), expires_at=T0 + 86400)
    return record.job_id


def test_a_resumed_events_request_gets_the_later_events_once_with_retry(stack: Stack, account_id: str) -> None:
    # Given an ended job with one partial image, whose client saw events up to id 1 (the sample's Last-Event-ID)
    job_id = succeeded_job_with_a_partial(stack, account_id)
    # When it asks for the events again through API Gateway
    response = stack.invoke("StatusFunction", job_event("get_job_events.json", job_id, account_id=account_id),
                            remaining_millis=29_000)
    # Then the answer is an event stream: retry first, then the partial (a link) and the end, each with its id
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"].startswith("text/event-stream")
    body = response["body"]
    assert body.startswith("retry: 1000\n\n")
    events = list(parse_events([body.encode()], max_event_bytes=1 << 20))
    assert [(event.id, event.event) for event in events] == [("2", "job.partial_image"), ("3", "job.succeeded")]
    partial, ended = (json.loads(event.data) for event in events)
    assert partial["partial_image_index"] == 0 and partial["url"].startswith("http")
    assert ended["id"] == job_id and ended["status"] == "succeeded"


def test_another_accounts_job_has_no_events(stack: Stack, account_id: str) -> None:
    job_id = succeeded_job_with_a_partial(stack, new_account_id())
    response = stack.invoke("StatusFunction", job_event("get_job_events.json", job_id, account_id=account_id))
    assert response["statusCode"] == 404


def test_each_event_shows_the_job_as_it_was_then_queued_before_any_start(stack: Stack, account_id: str) -> None:
    # Given an ended job, followed from its first event
    job_id = succeeded_job_with_a_partial(stack, account_id)
    event = job_event("get_job_events.json", job_id, account_id=account_id)
    del event["headers"]["last-event-id"]
    # When its events are read
    response = stack.invoke("StatusFunction", event, remaining_millis=29_000)
    queued, running = (json.loads(e.data) for e in list(parse_events([response["body"].encode()],
                                                                      max_event_bytes=1 << 20))[:2])
    # Then job.queued has no start yet (the job read now has one), and job.running has it
    assert (queued["status"], queued["started_at"]) == ("queued", None)
    assert (running["status"], running["started_at"]) == ("running", T0 + 1)
