"""Response streaming for a Python function behind a Function URL with `InvokeMode: RESPONSE_STREAM` (the sync
function): the wire format a streaming Function URL reads, and the small Lambda Runtime API loop that writes it.

Lambda streams responses natively only on Node.js; for Python it takes a custom Runtime API integration or the Lambda
Web Adapter. This is the first (docs/architecture.md, "Streaming the synchronous entry" says why): the function keeps
the python3.13 managed runtime, its Powertools handler and the shared layer, and its `AWS_LAMBDA_EXEC_WRAPPER`
(functions/sync/stream_runtime) starts `python -m retouch.streaming_runtime` in place of the runtime's own loop.

The loop gets each invocation from the Runtime API, calls the handler, and POSTs its result to
`/runtime/invocation/{id}/response` in streaming mode (`Lambda-Runtime-Function-Response-Mode: streaming`, chunked),
as an HTTP integration response: a JSON prelude (`statusCode`, `headers`, `cookies`), 8 NUL bytes, then the body as
the handler yields it. A handler returns either its usual Function URL result (a dict: sent in one piece) or a
`StreamedResponse` whose `chunks` are sent as they are made. A failure after the first byte ends the stream with
Lambda's error trailers. The local runtime writes the same bytes (`response_stream`) for `make run`.

Standard library only: it runs before anything else is imported, and `local/` uses it as it is.
"""

from __future__ import annotations

import base64
import http.client
import importlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

PRELUDE_DELIMITER = b"\x00" * 8
HTTP_INTEGRATION_CONTENT_TYPE = "application/vnd.awslambda.http-integration-response"
RUNTIME_API_VERSION = "2018-06-01"


@dataclass
class StreamedResponse:
    """A handler's streamed answer: the status and headers first, then `chunks` as they are made."""

    status_code: int
    headers: dict[str, str]
    chunks: Iterable[bytes]
    cookies: list[str] = field(default_factory=list)


def prelude(status_code: int, headers: dict[str, str], cookies: list[str] | None = None) -> bytes:
    return json.dumps({"statusCode": status_code, "headers": headers, "cookies": cookies or []}).encode() \
        + PRELUDE_DELIMITER


def response_stream(result: Any) -> Iterator[bytes]:
    """The bytes a streaming Function URL reads for a handler's result: prelude, delimiter, body."""
    if isinstance(result, StreamedResponse):
        yield prelude(result.status_code, result.headers, result.cookies)
        for chunk in result.chunks:
            if chunk:
                yield chunk
        return
    if isinstance(result, dict) and "statusCode" in result:
        body = result.get("body") or ""
        data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
        yield prelude(int(result["statusCode"]), dict(result.get("headers") or {}), list(result.get("cookies") or []))
        if data:
            yield data
        return
    # Anything else is a JSON body with 200, as a Function URL answers a result without a status code.
    yield prelude(200, {"content-type": "application/json"})
    yield json.dumps(result).encode()


# -- The Runtime API loop (AWS only) ------------------------------------------------------------------------------


@dataclass
class _Context:
    """The context object handlers and Powertools read."""

    aws_request_id: str
    invoked_function_arn: str
    _deadline_ms: int
    function_name: str = field(default_factory=lambda: os.environ.get("AWS_LAMBDA_FUNCTION_NAME", ""))
    function_version: str = field(default_factory=lambda: os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", ""))
    memory_limit_in_mb: int = field(default_factory=lambda: int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                                                                                "0")))
    log_group_name: str = field(default_factory=lambda: os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", ""))
    log_stream_name: str = field(default_factory=lambda: os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", ""))
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _error_body(exc: BaseException) -> dict[str, Any]:
    return {"errorMessage": str(exc), "errorType": type(exc).__name__,
            "stackTrace": traceback.format_tb(exc.__traceback__)}


class RuntimeApi:
    """The Runtime API's endpoints this loop uses, over one loopback connection each call."""

    def __init__(self, address: str) -> None:
        self._address = address
        self._base = f"/{RUNTIME_API_VERSION}/runtime"

    def _connection(self) -> http.client.HTTPConnection:
        host, _, port = self._address.partition(":")
        return http.client.HTTPConnection(host, int(port or 80))

    def next_invocation(self) -> tuple[Any, dict[str, str]]:
        connection = self._connection()
        connection.request("GET", f"{self._base}/invocation/next")  # blocks until an invocation arrives
        response = connection.getresponse()
        body = response.read()
        headers = {name.lower(): value for name, value in response.getheaders()}
        connection.close()
        return json.loads(body) if body else {}, headers

    def post_error(self, path: str, exc: BaseException) -> None:
        connection = self._connection()
        connection.request("POST", f"{self._base}{path}", json.dumps(_error_body(exc)),
                           {"Lambda-Runtime-Function-Error-Type": type(exc).__name__})
        connection.getresponse().read()
        connection.close()

    def stream_response(self, request_id: str, chunks: Iterable[bytes]) -> None:
        """POST the response in streaming mode, chunk by chunk; a failure while streaming ends it with Lambda's
        error trailers (the client's response is then cut short)."""
        connection = self._connection()
        connection.putrequest("POST", f"{self._base}/invocation/{request_id}/response", skip_accept_encoding=True)
        connection.putheader("Lambda-Runtime-Function-Response-Mode", "streaming")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.putheader("Content-Type", HTTP_INTEGRATION_CONTENT_TYPE)
        connection.putheader("Trailer", "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body")
        connection.endheaders()
        trailers = b""
        try:
            for chunk in chunks:
                connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except Exception as exc:  # noqa: BLE001 - reported to Lambda in the trailers, and logged
            traceback.print_exc()
            body = base64.b64encode(json.dumps(_error_body(exc)).encode())
            trailers = (f"Lambda-Runtime-Function-Error-Type: {type(exc).__name__}\r\n".encode()
                        + b"Lambda-Runtime-Function-Error-Body: " + body + b"\r\n")
        connection.send(b"0\r\n" + trailers + b"\r\n")
        connection.getresponse().read()
        connection.close()


def _load_handler(name: str) -> Callable[[Any, Any], Any]:
    module_name, _, attribute = name.rpartition(".")
    handler: Callable[[Any, Any], Any] = getattr(importlib.import_module(module_name), attribute)
    return handler


def serve(api: RuntimeApi, handler_name: str) -> None:
    """Init (import the handler; a failure is reported once), then invocations forever."""
    try:
        handler = _load_handler(handler_name)
    except Exception as exc:
        api.post_error("/init/error", exc)
        raise
    while True:
        event, headers = api.next_invocation()
        request_id = headers["lambda-runtime-aws-request-id"]
        if "lambda-runtime-trace-id" in headers:
            os.environ["_X_AMZN_TRACE_ID"] = headers["lambda-runtime-trace-id"]
        context = _Context(aws_request_id=request_id,
                           invoked_function_arn=headers.get("lambda-runtime-invoked-function-arn", ""),
                           _deadline_ms=int(headers.get("lambda-runtime-deadline-ms", "0")))
        try:
            result = handler(event, context)
        except Exception as exc:  # noqa: BLE001 - the invocation fails as Lambda reports a handler error
            traceback.print_exc()
            api.post_error(f"/invocation/{request_id}/error", exc)
            continue
        api.stream_response(request_id, response_stream(result))


def main() -> None:
    task_root = os.environ.get("LAMBDA_TASK_ROOT", "/var/task")
    sys.path[:0] = [task_root, "/opt/python"]
    serve(RuntimeApi(os.environ["AWS_LAMBDA_RUNTIME_API"]), os.environ["_HANDLER"])


if __name__ == "__main__":
    main()
