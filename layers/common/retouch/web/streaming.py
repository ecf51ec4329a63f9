"""Streamed answers (Server-Sent Events) from routes resolved by Powertools, whose responses are whole strings.

A route that streams returns `event_stream(chunks, headers)`: an ordinary Response (its status and headers, no body)
and, set aside for the handler, the chunks. The handler turns the resolver's result into what its entry carries:
- the sync function (a Function URL with InvokeMode RESPONSE_STREAM): `streamed(result)`, a StreamedResponse its
  runtime writes chunk by chunk as they are made (retouch/streaming_runtime.py);
- functions behind API Gateway (which buffers every response): `buffered(result)`, the chunks joined into the body.
  Each streaming route bounds its own chunks in time (it is told how long it may hold), so the join ends in time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any

from aws_lambda_powertools.event_handler import Response

from retouch.streaming_runtime import StreamedResponse

EVENT_STREAM = "text/event-stream"
# What a buffered function answers of a stream at most: under Lambda's 6 MB response, with room for the envelope.
BUFFERED_STREAM_BYTES = 5 * 1024 * 1024
# Set by a streaming route, taken by its handler once the resolver returns (one invocation per environment).
_pending: ContextVar[Iterable[bytes] | None] = ContextVar("retouch_stream_body", default=None)


def event_stream(chunks: Iterable[bytes], headers: dict[str, str] | None = None) -> Response[Any]:
    _pending.set(chunks)
    return Response(status_code=200, content_type=EVENT_STREAM, body="",
                    headers={"Cache-Control": "no-cache", **(headers or {})})


def _take() -> Iterable[bytes] | None:
    chunks = _pending.get()
    _pending.set(None)
    return chunks


def streamed(result: dict[str, Any]) -> dict[str, Any] | StreamedResponse:
    chunks = _take()
    if chunks is None:
        return result
    return StreamedResponse(int(result["statusCode"]), dict(result.get("headers") or {}), chunks,
                            list(result.get("cookies") or []))


def buffered(result: dict[str, Any]) -> dict[str, Any]:
    """The stream joined into one body, at most BUFFERED_STREAM_BYTES of whole events (Lambda's buffered response
    stops at 6 MB, and API Gateway would answer a larger one with a 500): past it the body ends with an `error` event
    that points at the sync entry, where the same answer streams."""
    chunks = _take()
    if chunks is None:
        return result
    kept: list[bytes] = []
    size = 0
    for chunk in chunks:
        if size + len(chunk) > BUFFERED_STREAM_BYTES:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
            kept.append(sse_event("error", {"type": "error", "error": {
                "message": "The events are larger than this entry can answer at once; stream them from the "
                           "synchronous entry, or read the job by its Location.",
                "type": "invalid_request_error", "param": None, "code": "stream_too_large"}}))
            break
        kept.append(chunk)
        size += len(chunk)
    return {**result, "body": b"".join(kept).decode(), "isBase64Encoded": False}


def sse_event(event: str, data: Any, *, event_id: int | None = None) -> bytes:
    """One Server-Sent Event: `id:` (when given), `event:`, one `data:` line of compact JSON, a blank line."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def sse_retry(milliseconds: int) -> bytes:
    """How long a client waits before it reconnects (with `Last-Event-ID`), per the SSE standard."""
    return f"retry: {milliseconds}\n\n".encode()
