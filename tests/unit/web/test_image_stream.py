"""`stream=true`'s answer (web/image_stream.py): a job's events as OpenAI's image streaming events."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

from retouch.jobs.event_stream import JobEvent, story
from retouch.models.records import JobError, JobRecord, StoredOutput
from retouch.models.requests import EditRequest, UploadedImage
from retouch.ports import PartialFrame
from retouch.providers.sse import parse_events
from retouch.web.image_stream import image_stream
from tests.builders import png
from tests.fakes import FakeObjectStore, job


def events_of(body: Iterator[bytes]) -> list[tuple[str | None, dict]]:
    return [(event.event, json.loads(event.data)) for event in parse_events(body, max_event_bytes=1 << 23)]


def succeeded_edit(store: FakeObjectStore) -> tuple[JobRecord, list[PartialFrame]]:
    store.put("outputs/j/partials/0-a.webp", b"preview", "image/webp")
    store.put("outputs/j/out-0.webp", b"final", "image/webp")
    record = job(kind="edit", status="succeeded", started_at=1_700_000_001, completed_at=1_700_000_090,
                 request={"size": "auto", "quality": "auto", "output_format": "webp", "partial_images": 1, "n": 1},
                 result={"size": "1024x1536", "quality": "medium", "background": "opaque", "output_format": "webp"},
                 outputs=[StoredOutput(key="outputs/j/out-0.webp", content_type="image/webp", bytes=5, width=1024,
                                       height=1536)],
                 usage={"input_tokens": 50, "output_tokens": 1156, "total_tokens": 1206, "partial_images": 1,
                        "input_tokens_details": {"image_tokens": 40, "text_tokens": 10}})
    return record, [PartialFrame(index=0, key="outputs/j/partials/0-a.webp", output_format="webp", at=1_700_000_040)]


def test_partials_then_the_completed_image_with_openais_fields_and_usage() -> None:
    store = FakeObjectStore()
    record, frames = succeeded_edit(store)
    events = events_of(image_stream(iter(story(record, frames)), record, store))
    assert [name for name, _ in events] == ["image_edit.partial_image", "image_edit.completed"]
    partial, completed = events[0][1], events[1][1]
    assert base64.b64decode(partial["b64_json"]) == b"preview"
    assert {k: partial[k] for k in ("type", "partial_image_index", "size", "quality", "background", "output_format",
                                    "created_at")} == {
        "type": "image_edit.partial_image", "partial_image_index": 0, "size": "1024x1536", "quality": "medium",
        "background": "opaque", "output_format": "webp", "created_at": 1_700_000_040}
    assert base64.b64decode(completed["b64_json"]) == b"final" and completed["created_at"] == 1_700_000_090
    usage = completed["usage"]
    assert (usage["input_tokens"], usage["output_tokens"], usage["total_tokens"]) == (50, 1156, 1206)
    assert usage["input_tokens_details"] == {"image_tokens": 40, "text_tokens": 10}


def test_a_failed_job_ends_with_the_error_event_the_sdk_raises() -> None:
    record = job(status="failed", error=JobError(code="provider_safety_refusal", message="refused"))
    events = events_of(image_stream(iter(story(record, [])), record, FakeObjectStore()))
    assert events[-1] == ("error", {"type": "error", "error": {"message": "refused", "type": "invalid_request_error",
                                                               "param": None, "code": "provider_safety_refusal"}})


def test_a_job_that_outlives_the_request_ends_with_an_error_naming_it() -> None:
    record = job(status="running", started_at=1_700_000_001)
    running: list[JobEvent] = story(record, [])
    [(name, data)] = events_of(image_stream(iter(running), record, FakeObjectStore()))
    assert name == "error" and data["error"]["code"] == "job_still_running"
    assert record.job_id in data["error"]["message"]


def test_the_job_keeps_partial_images_only_when_the_request_streams() -> None:
    image = UploadedImage(data=png())
    streamed = EditRequest(prompt="p", images=[image], stream=True, partial_images=2).job_request()
    unstreamed = EditRequest(prompt="p", images=[image], partial_images=2).job_request()
    assert streamed["partial_images"] == 2 and "stream" not in streamed
    assert "partial_images" not in unstreamed and "stream" not in unstreamed


def test_a_buffered_stream_stops_at_whole_events_under_lambdas_limit_with_an_error_event() -> None:
    from retouch.web import streaming

    # Given a stream of three 2 MB events answered by a function behind API Gateway
    big = [streaming.sse_event("image_edit.partial_image", {"b64_json": "x" * (2 * 1024 * 1024)}) for _ in range(3)]
    streaming.event_stream(iter(big))
    # When it is buffered
    result = streaming.buffered({"statusCode": 200, "headers": {}, "body": ""})
    # Then two whole events fit, and an error event says what to do instead
    events = events_of(iter([result["body"].encode()]))
    assert [name for name, _ in events] == ["image_edit.partial_image"] * 2 + ["error"]
    assert events[-1][1]["error"]["code"] == "stream_too_large"
    assert len(result["body"]) <= streaming.BUFFERED_STREAM_BYTES + 1024
