"""OpenAI's `stream=true` through the sync entry (a streaming Function URL), with the openai SDK unmodified, and a
job's events (`GET /v1/jobs/{id}/events`) resumed with `Last-Event-ID` after a dropped connection.

On the shared stack, its stand-in provider answering in PROVIDER_SECONDS for this module, the partial images spread
over that time, so the first partial must reach the client well before the completed image."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from PIL import Image

from local.stack import LoopbackStack
from retouch.providers.sse import ServerSentEvent, parse_events

pytestmark = [pytest.mark.e2e, pytest.mark.local_only, pytest.mark.timeout(240)]

PROVIDER_SECONDS = 4.0


@pytest.fixture(scope="module")
def streaming_stack(stack) -> Iterator[LoopbackStack]:
    """The shared e2e stack, its stand-in provider answering in PROVIDER_SECONDS for this module's tests (the e2e
    stack's 10 s provider timeout leaves room for it), and back to its quick answers after them."""
    quick = stack.provider.delay
    stack.provider.delay = PROVIDER_SECONDS
    try:
        yield stack
    finally:
        stack.provider.delay = quick


def sdk(stack: LoopbackStack) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{stack.function_urls['SyncFunction']}/v1", api_key=stack.api_key,
                         max_retries=0, timeout=120)


def png(size: tuple[int, int] = (256, 256)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def timed(events: Iterator[object]) -> list[tuple[float, object]]:
    started = time.monotonic()
    return [(time.monotonic() - started, event) for event in events]


def test_images_edit_streams_two_partials_then_the_completed_image_to_the_unmodified_sdk(
        streaming_stack: LoopbackStack):
    # Given the openai SDK pointed at the sync entry
    client = sdk(streaming_stack)
    # When it edits with stream=True and partial_images=2
    stream = client.images.edit(model="gpt-image-2", image=("photo.png", png(), "image/png"),
                                prompt="a red hat", size="1024x1536", output_format="webp",
                                stream=True, partial_images=2)
    received = timed(iter(stream))
    # Then the partials come first, in order, then the completed image, which decodes to what was asked
    types = [event.type for _, event in received]
    assert types == ["image_edit.partial_image", "image_edit.partial_image", "image_edit.completed"]
    assert [event.partial_image_index for _, event in received[:2]] == [0, 1]
    first_partial_at, completed_at = received[0][0], received[-1][0]
    assert first_partial_at < completed_at - PROVIDER_SECONDS / 4  # the first preview well before the end
    completed = received[-1][1]
    image = Image.open(io.BytesIO(base64.b64decode(completed.b64_json)))
    assert (image.format, image.size) == ("WEBP", (1024, 1536))
    assert completed.output_format == "webp" and completed.size == "1024x1536"
    # ... and its usage is OpenAI's token counts, the two partials billed as the upstream bills them
    assert completed.usage.output_tokens > 0 and completed.usage.total_tokens >= completed.usage.output_tokens
    partial = Image.open(io.BytesIO(base64.b64decode(received[0][1].b64_json)))
    assert partial.size == (1024, 1536)


def test_images_generate_with_stream_true_gives_the_completed_image_event(streaming_stack: LoopbackStack):
    # Given the SDK, When it generates with stream=True and no partial images
    stream = sdk(streaming_stack).images.generate(model="gpt-image-2", prompt="a lighthouse", size="1024x1024",
                                                  output_format="png", stream=True)
    events = list(stream)
    # Then one completed event carries the image
    assert [event.type for event in events] == ["image_generation.completed"]
    image = Image.open(io.BytesIO(base64.b64decode(events[0].b64_json)))
    assert (image.format, image.size) == ("PNG", (1024, 1024))


def test_a_refused_job_ends_the_stream_with_an_error_the_sdk_raises(streaming_stack: LoopbackStack):
    # Given a prompt the provider refuses, When the SDK streams it
    stream = sdk(streaming_stack).images.generate(model="gpt-image-2", prompt="x [fault:safety]", stream=True)
    # Then iterating raises the SDK's APIError with the provider's code
    with pytest.raises(openai.APIError) as raised:
        list(stream)
    assert raised.value.code == "moderation_blocked"


def read_events(response: httpx.Response, *, stop_after: int | None = None) -> list[ServerSentEvent]:
    events: list[ServerSentEvent] = []
    for event in parse_events(response.iter_raw(), max_event_bytes=1 << 24):
        events.append(event)
        if stop_after is not None and len(events) >= stop_after:
            break
    return events


def test_a_client_that_drops_the_events_stream_resumes_with_last_event_id_and_gets_each_later_event_once(
        streaming_stack: LoopbackStack):
    stack = streaming_stack
    headers = {"Authorization": f"Bearer {stack.api_key}"}
    sync_url = stack.function_urls["SyncFunction"]
    # Given a job with two partial images, submitted streamed by a client that hangs up at once (the job goes on)
    body = {"prompt": "a boat", "size": "1024x1024", "stream": True, "partial_images": 2}
    with httpx.Client(base_url=sync_url, headers=headers, timeout=60) as http, \
            http.stream("POST", "/v1/images/generations", json=body) as sent:
        assert sent.status_code == 200
        job_id = sent.headers["location"].rsplit("/", 1)[1]
    # When a client follows the job's events and drops the connection after the second
    with httpx.Client(base_url=sync_url, headers=headers, timeout=60) as http:
        with http.stream("GET", f"/v1/jobs/{job_id}/events") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            first = read_events(response, stop_after=3)
        assert [event.event for event in first] == ["job.queued", "job.running", "job.partial_image"]
        # ... and reconnects with the last id it saw
        with http.stream("GET", f"/v1/jobs/{job_id}/events", headers={"Last-Event-ID": first[-1].id or ""}) as again:
            rest = read_events(again)
        # Then together they are the whole story, each event once, in order, ending with the terminal one
        with http.stream("GET", f"/v1/jobs/{job_id}/events") as whole:
            everything = read_events(whole)
    seen = first + rest
    assert [event.id for event in seen] == [event.id for event in everything]
    assert [event.event for event in everything] == ["job.queued", "job.running", "job.partial_image",
                                                     "job.partial_image", "job.succeeded"]
    assert len({event.id for event in seen}) == len(seen)


JS_DIR = Path(__file__).resolve().parent / "js"


def test_the_openai_js_sdk_reads_the_same_streams(streaming_stack: LoopbackStack, tmp_path: Path):
    # Given the official JS SDK as its lock pins it (make test installs it: npm ci --prefix tests/e2e/js)
    node = shutil.which("node")
    assert node is not None, "node is needed for the JS SDK's end-to-end test"
    assert (JS_DIR / "node_modules" / "openai").is_dir(), "run `make test-e2e` (npm ci --prefix tests/e2e/js) first"
    image = tmp_path / "photo.png"
    image.write_bytes(png())
    # When it streams an edit with two partials and a generation through the sync entry
    env = {**os.environ, "RETOUCH_SYNC_URL": streaming_stack.function_urls["SyncFunction"],
           "RETOUCH_API_KEY": streaming_stack.api_key or ""}
    ran = subprocess.run([node, "stream_images.mjs", str(image)], cwd=JS_DIR, env=env, capture_output=True,
                         text=True, timeout=180, check=False)
    assert ran.returncode == 0, ran.stderr
    events = [json.loads(line) for line in ran.stdout.splitlines()]
    # Then it read OpenAI's events in order, the first partial well before the image, which is what was asked for
    edit = [e for e in events if e["call"] == "edit"]
    assert [(e["type"], e["partial_image_index"]) for e in edit] == [
        ("image_edit.partial_image", 0), ("image_edit.partial_image", 1), ("image_edit.completed", None)]
    assert edit[0]["ms"] < edit[-1]["ms"] - PROVIDER_SECONDS * 1000 / 4
    completed = Image.open(io.BytesIO(base64.b64decode(edit[-1]["b64_json"])))
    assert (completed.format, completed.size) == ("WEBP", (1024, 1536))
    assert [e["type"] for e in events if e["call"] == "generate"] == ["image_generation.completed"]
