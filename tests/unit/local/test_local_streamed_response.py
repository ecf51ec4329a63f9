"""A streaming Function URL's answer (local/api_gateway/streamed_response.py, retouch/streaming_runtime.py): the
prelude and body as Lambda writes and reads them, and Lambda's streaming limits."""

from __future__ import annotations

import base64

import pytest

from local.api_gateway import streamed_response
from local.api_gateway.streamed_response import MalformedStream, StreamCut, streamed_http_response
from retouch.streaming_runtime import PRELUDE_DELIMITER, StreamedResponse, response_stream


def test_a_streamed_result_is_its_prelude_then_its_chunks_as_made() -> None:
    result = StreamedResponse(200, {"content-type": "text/event-stream"}, iter([b"one", b"", b"two"]), ["a=b"])
    chunks = list(response_stream(result))
    assert chunks[0].endswith(PRELUDE_DELIMITER) and chunks[1:] == [b"one", b"two"]
    response = streamed_http_response(iter(chunks), "req-1")
    assert response.status == 200 and ("content-type", "text/event-stream") in response.headers
    assert ("set-cookie", "a=b") in response.headers
    assert response.stream is not None and list(response.stream) == [b"one", b"two"]


def test_a_buffered_result_streams_whole_with_its_status() -> None:
    result = {"statusCode": 404, "headers": {"content-type": "application/json"},
              "body": base64.b64encode(b'{"error":1}').decode(), "isBase64Encoded": True}
    response = streamed_http_response(response_stream(result), "req-2")
    assert response.status == 404 and response.stream is not None and b"".join(response.stream) == b'{"error":1}'


def test_a_stream_without_a_prelude_is_malformed() -> None:
    with pytest.raises(MalformedStream):
        streamed_http_response(iter([b"no prelude here"]), "req-3")


def test_past_six_mb_the_body_is_paced_at_two_mb_a_second_and_cut_past_the_size_limit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    mb = 1024 * 1024
    monkeypatch.setattr(streamed_response, "LAMBDA_STREAMED_RESPONSE_BYTES", 12 * mb)
    slept: list[float] = []
    now = [0.0]

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    chunks = iter([b'{"statusCode":200}' + PRELUDE_DELIMITER] + [b"x" * mb] * 13)
    response = streamed_http_response(chunks, "req-4", sleep=sleep, clock=lambda: now[0])
    assert response.stream is not None
    received = 0
    with pytest.raises(StreamCut):
        for piece in response.stream:
            received += len(piece)
    # the first 6 MB at once, the next 6 at 2 MB/s (3 s), the 13th MB refused
    assert received == 12 * mb
    assert slept == pytest.approx([0.5] * 6)
