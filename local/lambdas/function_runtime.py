"""One function's execution environment: imports the handler once (the cold start), then serves invocations.

Child: `python -m local.lambdas.function_runtime --handler app.lambda_handler --code-dir functions/api --layer-dir ...`.
The environment (template variables, AWS endpoint, AWS_LAMBDA_*) is set by the parent, so the
function reads its settings once, as in Lambda. Invocations arrive as Lambda's Invoke API over
loopback HTTP, each in a thread of its own; the parent (local.lambdas.function_pool) sends one at a time,
as Lambda does per execution environment.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from local import REPO_ROOT
from local.child_process import announce_ready, exit_with_parent

INVOKE_PATH_PREFIX = "/2015-03-31/functions/"
# InvokeWithResponseStream's path: what a Function URL with InvokeMode RESPONSE_STREAM calls.
STREAM_INVOKE_PATH_PREFIX = "/2021-11-15/functions/"
# Set (by scripts/profile_hot_paths.py), each invocation is profiled (cProfile) into <dir>/<function>-<request>.prof.
PROFILE_DIR_VARIABLE = "RETOUCH_LOCAL_PROFILE_DIR"
ERROR_HEADER = "X-Amz-Function-Error"


@dataclass
class LambdaContext:
    """The attributes of the runtime's context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    timeout_seconds: float
    function_version: str = "$LATEST"
    identity: Any = None
    client_context: Any = None
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def error_payload(exc: BaseException, request_id: str, error_type: str | None = None) -> dict[str, Any]:
    """Lambda's shape for an unhandled error (what the Invoke API returns with X-Amz-Function-Error)."""
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def _profiled(handler: Callable[[Any, Any], Any], request_id: str) -> Callable[[Any, Any], Any]:
    import cProfile

    def run(event: Any, context: Any) -> Any:
        profile = cProfile.Profile()
        try:
            return profile.runcall(handler, event, context)
        finally:
            name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "function")
            profile.dump_stats(Path(os.environ[PROFILE_DIR_VARIABLE]) / f"{name}-{request_id}.prof")

    return run


class FunctionRuntime:
    """Imports the handler and runs invocations; no HTTP here."""

    def __init__(self, handler: str, timeout: float, memory_size: int) -> None:
        self._handler_name = handler
        self._timeout = timeout
        self._memory_size = memory_size
        self._handler: Callable[[Any, Any], Any] | None = None
        self.init_error: dict[str, Any] | None = None
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local-function")

    def initialize(self) -> None:
        module_name, _, attribute = self._handler_name.rpartition(".")
        try:
            self._handler = getattr(importlib.import_module(module_name), attribute)
        except Exception as exc:  # noqa: BLE001 - like Lambda, an init failure fails every invocation
            self.init_error = error_payload(exc, "init", "Runtime.ImportModuleError")
            _log_error(exc, "init")

    def invoke(self, event: Any) -> tuple[bytes, bool]:
        """Run one invocation; returns (JSON payload, failed)."""
        request_id = str(uuid.uuid4())
        if self._handler is None:
            return json.dumps(self.init_error).encode(), True
        context = self._context(request_id)
        handler = _profiled(self._handler, request_id) if os.environ.get(PROFILE_DIR_VARIABLE) else self._handler
        started = time.monotonic()
        try:
            payload, failed = _serialize(handler(event, context)), False
        except _MarshalError as exc:
            payload, failed = json.dumps(error_payload(exc, request_id, "Runtime.MarshalError")).encode(), True
            _log_error(exc, request_id)
        except Exception as exc:  # noqa: BLE001 - the caller gets Lambda's error payload, the log the trace
            payload, failed = json.dumps(error_payload(exc, request_id)).encode(), True
            _log_error(exc, request_id)
        self._report(request_id, started)
        return payload, failed

    def invoke_streaming(self, event: Any) -> tuple[Iterator[bytes] | None, bytes]:
        """Run one invocation in streaming mode, as the function's own runtime loop does in AWS
        (retouch/streaming_runtime.py, from the function's layer): (the response's bytes as they are made, b"") or
        (None, Lambda's error payload) when the handler failed before answering."""
        request_id = str(uuid.uuid4())
        if self._handler is None:
            return None, json.dumps(self.init_error).encode()
        from retouch.streaming_runtime import response_stream  # the function's layer, on sys.path here

        started = time.monotonic()
        try:
            result = self._handler(event, self._context(request_id))
        except Exception as exc:  # noqa: BLE001 - the caller gets Lambda's error payload, the log the trace
            _log_error(exc, request_id)
            self._report(request_id, started)
            return None, json.dumps(error_payload(exc, request_id)).encode()

        def chunks() -> Iterator[bytes]:
            try:
                yield from response_stream(result)
            except Exception as exc:
                _log_error(exc, request_id)
                raise
            finally:
                self._report(request_id, started)

        return chunks(), b""

    def _report(self, request_id: str, started: float) -> None:
        elapsed = time.monotonic() - started
        note = ""
        if elapsed > self._timeout:
            # Not enforced locally (the api may hold longer than its Timeout for `Prefer: wait`), but visible.
            note = f"\tWARNING: exceeded the function Timeout of {self._timeout:.0f} s"
        print(f"REPORT RequestId: {request_id}\tDuration: {elapsed * 1000:.1f} ms{note}", flush=True)

    def _context(self, request_id: str) -> LambdaContext:
        return LambdaContext(
            function_name=self.function_name,
            memory_limit_in_mb=self._memory_size,
            invoked_function_arn=os.environ.get("RETOUCH_LOCAL_FUNCTION_ARN", ""),
            aws_request_id=request_id,
            log_group_name=os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", ""),
            log_stream_name=os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", ""),
            timeout_seconds=self._timeout,
        )


class _MarshalError(Exception):
    """The handler returned something JSON cannot carry (Lambda fails the invocation the same way)."""


def _serialize(result: Any) -> bytes:
    try:
        return json.dumps(result).encode()
    except (TypeError, ValueError) as exc:
        raise _MarshalError(f"Unable to marshal response: {exc}") from exc


def _log_error(exc: BaseException, request_id: str) -> None:
    lines = traceback.format_exception(exc)
    sys.stderr.write(f"[ERROR] {type(exc).__name__}: {exc} (RequestId: {request_id})\n{''.join(lines)}")
    sys.stderr.flush()


def _handler_class(runtime: FunctionRuntime) -> type[BaseHTTPRequestHandler]:
    class InvokeHandler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True  # headers and body are two writes: avoid Nagle's delayed-ACK stall

        def do_POST(self) -> None:
            if self.path.startswith(STREAM_INVOKE_PATH_PREFIX):
                self._stream()
                return
            if not self.path.startswith(INVOKE_PATH_PREFIX):
                self._reply(404, b'{"message":"Not Found"}', failed=False)
                return
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            payload, failed = runtime.invoke(json.loads(body) if body else {})
            self._reply(200, payload, failed=failed)

        def _stream(self) -> None:
            """The response as it is made, chunked; a failure midway cuts it short (no last chunk), as Lambda ends
            a stream whose function failed."""
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            chunks, error = runtime.invoke_streaming(json.loads(body) if body else {})
            if chunks is None:
                self._reply(200, error, failed=True)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.awslambda.http-integration-response")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for chunk in chunks:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
            except Exception:  # noqa: BLE001 - logged by the runtime; the reader sees the stream end early
                self.close_connection = True
                return
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()

        def _reply(self, status: int, body: bytes, *, failed: bool) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if failed:
                self.send_header(ERROR_HEADER, "Unhandled")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the REPORT line says enough

    return InvokeHandler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--handler", required=True)
    parser.add_argument("--code-dir", required=True, type=Path)
    parser.add_argument("--layer-dir", action="append", default=[], type=Path)
    parser.add_argument("--timeout", type=float, required=True)
    parser.add_argument("--memory-size", type=int, required=True)
    args = parser.parse_args(argv)

    exit_with_parent()
    # Like Lambda: the code first (/var/task), then layers (/opt/python); the repo root is not importable.
    repo_root = str(REPO_ROOT)
    sys.path[:] = [p for p in sys.path if p not in ("", ".", repo_root, os.getcwd())]
    sys.path[:0] = [str(args.code_dir), *(str(d) for d in args.layer_dir)]
    os.chdir(args.code_dir)

    runtime = FunctionRuntime(args.handler, args.timeout, args.memory_size)
    runtime.initialize()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(runtime))
    server.daemon_threads = True
    announce_ready({"port": server.server_address[1], "init_error": runtime.init_error})
    server.serve_forever()


if __name__ == "__main__":
    main()
