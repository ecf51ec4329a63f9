"""A streaming Function URL's answer (InvokeMode RESPONSE_STREAM), as Lambda delivers it to the client.

The function writes an HTTP integration response: a JSON prelude (`statusCode`, `headers`, `cookies`), 8 NUL bytes,
then the body (retouch/streaming_runtime.py). The client gets the status and headers once the prelude is complete,
then each body chunk as it is written, under Lambda's streaming limits (local.aws.limits): the first 6 MB at full
speed, the rest at most 2 MB/s, and nothing past 200 MB (the stream ends there, cut short).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

from local.api_gateway.http_events import HttpResponse
from local.aws.limits import (
    LAMBDA_STREAM_CAPPED_BYTES_PER_SECOND,
    LAMBDA_STREAM_UNCAPPED_BYTES,
    LAMBDA_STREAMED_RESPONSE_BYTES,
)

PRELUDE_DELIMITER = b"\x00" * 8
# A prelude is a status and headers: anything longer is not one.
MAX_PRELUDE_BYTES = 64 * 1024


class MalformedStream(ValueError):
    """The function's stream did not start with a prelude (a Function URL answers 502)."""


class StreamCut(Exception):
    """The stream ended early (the function failed midway, or passed Lambda's size limit): the client's response
    ends without its last chunk."""


def streamed_http_response(chunks: Iterator[bytes], request_id: str, *,
                           sleep: Callable[[float], None] = time.sleep,
                           clock: Callable[[], float] = time.monotonic) -> HttpResponse:
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        if PRELUDE_DELIMITER in buffer or len(buffer) > MAX_PRELUDE_BYTES:
            break
    head, found, rest = buffer.partition(PRELUDE_DELIMITER)
    if not found:
        raise MalformedStream("no prelude")
    try:
        prelude = json.loads(head)
        status = int(prelude.get("statusCode", 200))
    except (ValueError, TypeError, AttributeError) as exc:
        raise MalformedStream("the prelude is not JSON with a statusCode") from exc
    headers = [(str(name).lower(), str(value)) for name, value in (prelude.get("headers") or {}).items()]
    headers.extend(("set-cookie", str(cookie)) for cookie in prelude.get("cookies") or [])
    headers.append(("x-amzn-requestid", request_id))
    return HttpResponse(status, headers, b"", stream=_limited(rest, chunks, sleep, clock))


def _limited(first: bytes, chunks: Iterator[bytes], sleep: Callable[[float], None],
             clock: Callable[[], float]) -> Iterator[bytes]:
    """The body under Lambda's streaming limits; StreamCut when it passes the size limit."""
    sent = 0
    capped_since: float | None = None
    capped_sent = 0

    def pieces() -> Iterator[bytes]:
        if first:
            yield first
        yield from chunks

    for piece in pieces():
        if sent + len(piece) > LAMBDA_STREAMED_RESPONSE_BYTES:
            raise StreamCut(f"the response passed {LAMBDA_STREAMED_RESPONSE_BYTES} bytes")
        uncapped = max(0, min(len(piece), LAMBDA_STREAM_UNCAPPED_BYTES - sent))
        sent += len(piece)
        capped = len(piece) - uncapped
        if capped:
            if capped_since is None:
                capped_since = clock()
            capped_sent += capped
            due = capped_since + capped_sent / LAMBDA_STREAM_CAPPED_BYTES_PER_SECOND
            if due > clock():
                sleep(due - clock())
        yield piece
