"""OpenAI's `stream=true` through the OpenAI images adapter (submit_streaming), over httpx.MockTransport: the request
asks for the stream and the partials, each partial reaches the sink as it is read, the completed event becomes the
call's result, and an error event is classified as an error answer is."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from retouch.providers.aiml import aiml_upstream
from retouch.providers.base import ProviderRefused, ProviderUnavailable
from retouch.providers.openai import openai_upstream
from retouch.providers.partials import PartialImage, StreamsPartials
from retouch.providers.upstream import Finished
from tests.unit.providers.replay import PUBLIC_OUTPUTS

BASE_URL = "https://images.provider.test/v1"
PNG = b"\x89PNG\r\n\x1a\n" + b"final-pixels"
PREVIEW = b"\x89PNG\r\n\x1a\n" + b"preview"


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def partial(index: int) -> bytes:
    return sse("image_generation.partial_image", {
        "type": "image_generation.partial_image", "b64_json": base64.b64encode(PREVIEW + bytes([index])).decode(),
        "partial_image_index": index, "size": "1024x1024", "quality": "medium", "background": "opaque",
        "output_format": "png", "created_at": 1})


COMPLETED = sse("image_generation.completed", {
    "type": "image_generation.completed", "b64_json": base64.b64encode(PNG).decode(), "size": "1024x1024",
    "quality": "medium", "background": "opaque", "output_format": "png", "created_at": 2,
    "usage": {"input_tokens": 10, "output_tokens": 1256, "total_tokens": 1266,
              "input_tokens_details": {"image_tokens": 0, "text_tokens": 10}}})


class Sink:
    def __init__(self, requested: int) -> None:
        self.requested = requested
        self.received: list[PartialImage] = []

    def __call__(self, image: PartialImage) -> None:
        self.received.append(image)


def adapter_answering(body: bytes, status: int = 200, seen: list[httpx.Request] | None = None) -> Any:
    def answer(request: httpx.Request) -> httpx.Response:
        request.read()
        if seen is not None:
            seen.append(request)
        return httpx.Response(status, content=body, headers={"content-type": "text/event-stream"})

    client = httpx.Client(transport=httpx.MockTransport(answer))
    return openai_upstream(api_key="sk-test", timeout_seconds=30, base_url=BASE_URL, client=client,
                           outputs=PUBLIC_OUTPUTS)


def test_partials_reach_the_sink_and_the_completed_event_is_the_result() -> None:
    # Given an upstream that streams two partials then the image
    seen: list[httpx.Request] = []
    adapter = adapter_answering(partial(0) + partial(1) + COMPLETED, seen=seen)
    sink = Sink(requested=2)
    # When a generation is submitted streaming
    outcome = adapter.submit_streaming(images=[], mask=None, options={"prompt": "p", "model": "gpt-image-2"},
                                       partials=sink)
    # Then the request asked for the stream and the partials
    sent = json.loads(seen[0].content)
    assert sent["stream"] is True and sent["partial_images"] == 2
    assert seen[0].headers["accept"] == "text/event-stream"
    # ... each partial reached the sink, in order, decoded
    assert [(p.index, p.data, p.output_format) for p in sink.received] == [
        (0, PREVIEW + b"\x00", "png"), (1, PREVIEW + b"\x01", "png")]
    # ... and the result is the completed image with the upstream's usage (which counts the partials' tokens)
    assert isinstance(outcome, Finished)
    assert outcome.result.images[0].data == PNG
    assert outcome.result.usage["output_tokens"] == 1256
    assert (outcome.result.size, outcome.result.quality) == ("1024x1024", "medium")


def test_an_error_event_refusing_the_request_is_a_refusal() -> None:
    # Given a stream that ends with a moderation error
    body = partial(0) + sse("error", {"type": "error", "error": {"type": "image_generation_user_error",
                                                                 "code": "moderation_blocked",
                                                                 "message": "blocked by the safety system"}})
    # When it is submitted, Then the call is refused (never retried elsewhere)
    with pytest.raises(ProviderRefused) as refused:
        adapter_answering(body).submit_streaming(images=[], mask=None, options={"prompt": "p"}, partials=Sink(1))
    assert refused.value.code == "moderation_blocked"


@pytest.mark.parametrize("body", [
    pytest.param(partial(0), id="no-completed-event"),
    pytest.param(sse("error", {"error": {"type": "server_error", "message": "overloaded"}}), id="server-error"),
    pytest.param(b"event: image_generation.completed\ndata: not json\n\n", id="data-not-json"),
])
def test_a_stream_that_cannot_finish_the_call_is_unavailable(body: bytes) -> None:
    with pytest.raises(ProviderUnavailable):
        adapter_answering(body).submit_streaming(images=[], mask=None, options={"prompt": "p"}, partials=Sink(1))


def test_an_error_status_is_classified_as_without_streaming() -> None:
    body = json.dumps({"error": {"message": "Invalid size", "code": "invalid_value"}}).encode()
    with pytest.raises(ProviderRefused):
        adapter_answering(body, status=400).submit_streaming(images=[], mask=None, options={"prompt": "p"},
                                                             partials=Sink(1))


def test_only_the_dialects_that_stream_say_so() -> None:
    client = httpx.Client(transport=httpx.MockTransport(lambda _r: httpx.Response(500)))
    openai = openai_upstream(api_key="k", timeout_seconds=1, base_url=BASE_URL, client=client)
    aiml = aiml_upstream(api_key="k", timeout_seconds=1, model="m", client=client)
    assert isinstance(openai, StreamsPartials) and openai.streams_partials is True
    assert aiml.streams_partials is False
