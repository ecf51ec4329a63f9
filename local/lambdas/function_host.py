"""One execution environment seen from the stack: the host process (local.lambdas.function_runtime), invoking it.

Lambda's limits apply on the way in and out: the payload limits (local.aws.limits) and the function's Timeout.
"""

from __future__ import annotations

import http.client
import json
import sys
import time
from collections.abc import Iterator, Mapping
from typing import Any

from local.aws.limits import LAMBDA_SYNC_PAYLOAD_BYTES, LAMBDA_SYNC_RESPONSE_BYTES
from local.child_process import ChildProcess
from local.cloudformation.template import FunctionSpec
from local.console import Console
from local.lambdas.function_runtime import ERROR_HEADER, INVOKE_PATH_PREFIX, STREAM_INVOKE_PATH_PREFIX
from local.lambdas.invocation import FunctionUnavailable, Invocation, PayloadTooLarge, StreamedInvocation

TIMEOUT_SLACK_SECONDS = 0.5
STREAM_READ_BYTES = 64 * 1024


def _event_body(event: Any) -> bytes:
    """The event as the Invoke API receives it (compact JSON: spaces or \\u escapes would inflate it), refused
    over Lambda's payload limit."""
    body = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
    if len(body) > LAMBDA_SYNC_PAYLOAD_BYTES:
        raise PayloadTooLarge(f"{len(body)} byte payload is too large for the RequestResponse invocation type "
                              f"(limit {LAMBDA_SYNC_PAYLOAD_BYTES} bytes)")
    return body


def _timed_out(timeout: float) -> Invocation:
    return Invocation(payload={"errorType": "Sandbox.Timedout", "errorMessage": f"Task timed out after "
                                                                               f"{timeout:.2f} seconds"},
                      failed=True)


class FunctionHost:
    """One execution environment: a host process, its handler imported once (see local.lambdas.function_runtime)."""

    def __init__(self, spec: FunctionSpec, env: Mapping[str, str], console: Console, prefix: str | None = None) -> None:
        self.spec = spec
        argv = [sys.executable, "-m", "local.lambdas.function_runtime", "--handler", spec.handler,
                "--code-dir", str(spec.code_dir), "--timeout", str(spec.timeout),
                "--memory-size", str(spec.memory_size)]
        for layer_dir in spec.layer_dirs:
            argv += ["--layer-dir", str(layer_dir)]
        self._child = ChildProcess(prefix or spec.short_name, argv, env=env, console=console, cwd=spec.code_dir)
        self._port = 0
        self.init_error: dict[str, Any] | None = None
        # Lambda ends an invocation at the function's Timeout (and the environment with it); a little slack for
        # loopback HTTP, so an invocation that returns just in time is not cut off.
        self._timeout = spec.timeout + TIMEOUT_SLACK_SECONDS

    def start(self) -> None:
        self._child.start()

    def wait_ready(self, timeout: float) -> None:
        info = self._child.wait_ready(timeout)
        self._port = int(info["port"])
        self.init_error = info.get("init_error")

    def stop(self) -> None:
        self._child.stop()

    @property
    def running(self) -> bool:
        return self._child.running

    @property
    def pid(self) -> int | None:
        return self._child.pid

    @property
    def ready(self) -> bool:
        """Started and serving (its handler imported): a busy ready environment is running an invocation."""
        return self._port != 0

    def invoke_streaming(self, event: Any) -> Invocation | StreamedInvocation:
        """One invocation in streaming mode (InvokeWithResponseStream, what a Function URL with InvokeMode
        RESPONSE_STREAM calls): the response's bytes as the function writes them, the function's Timeout bounding the
        whole stream (past it the environment is killed and the stream ends). A handler that failed before it
        answered is a failed Invocation, as in `invoke`."""
        body = _event_body(event)
        connection = http.client.HTTPConnection("127.0.0.1", self._port, timeout=self._timeout)
        try:
            connection.request("POST", f"{STREAM_INVOKE_PATH_PREFIX}{self.spec.logical_id}"
                                       "/response-streaming-invocations", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            if response.getheader(ERROR_HEADER) is not None:
                data = response.read()
                connection.close()
                return Invocation(payload=json.loads(data) if data else None, failed=True)
        except TimeoutError:
            connection.close()
            self._child.kill()
            return _timed_out(self.spec.timeout)
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise FunctionUnavailable(f"{self.spec.logical_id} is not reachable: {exc}") from exc
        return StreamedInvocation(self._read_stream(connection, response))

    def _read_stream(self, connection: http.client.HTTPConnection,
                     response: http.client.HTTPResponse) -> Iterator[bytes]:
        deadline = time.monotonic() + self._timeout
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._child.kill()  # Lambda ends the invocation at its Timeout, and the stream with it
                    return
                if connection.sock is not None:
                    connection.sock.settimeout(left)
                try:
                    chunk = response.read1(STREAM_READ_BYTES)
                except TimeoutError:
                    self._child.kill()
                    return
                except (OSError, http.client.HTTPException):
                    return  # the function failed midway: the stream ends where it was
                if not chunk:
                    return
                yield chunk
        finally:
            connection.close()

    def invoke(self, event: Any) -> Invocation:
        """One invocation. Past the function's Timeout the environment is killed and the invocation fails with
        Lambda's timeout error (what the Invoke API answers then); an event or result over Lambda's payload limit
        is refused the way Lambda refuses it."""
        body = _event_body(event)
        connection = http.client.HTTPConnection("127.0.0.1", self._port, timeout=self._timeout)
        try:
            connection.request("POST", f"{INVOKE_PATH_PREFIX}{self.spec.logical_id}/invocations", body,
                               {"Content-Type": "application/json"})
            response = connection.getresponse()
            data = response.read()
            failed = response.getheader(ERROR_HEADER) is not None
        except TimeoutError:
            self._child.kill()
            return _timed_out(self.spec.timeout)
        except (OSError, http.client.HTTPException) as exc:
            raise FunctionUnavailable(f"{self.spec.logical_id} is not reachable: {exc}") from exc
        finally:
            connection.close()
        if len(data) > LAMBDA_SYNC_RESPONSE_BYTES:
            return Invocation(payload={"errorType": "Function.ResponseSizeTooLarge",
                                       "errorMessage": f"Response payload size ({len(data)} bytes) exceeded maximum "
                                                       f"allowed payload size ({LAMBDA_SYNC_RESPONSE_BYTES} bytes)."},
                              failed=True)
        return Invocation(payload=json.loads(data) if data else None, failed=failed)
