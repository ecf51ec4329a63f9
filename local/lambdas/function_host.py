"""One execution environment seen from the stack: the host process (local.lambdas.function_runtime), invoking it.

Lambda's limits apply on the way in and out: the payload limits (local.aws.limits) and the function's Timeout.
"""

from __future__ import annotations

import http.client
import json
import sys
from collections.abc import Mapping
from typing import Any

from local.aws.limits import LAMBDA_SYNC_PAYLOAD_BYTES, LAMBDA_SYNC_RESPONSE_BYTES
from local.child_process import ChildProcess
from local.cloudformation.template import FunctionSpec
from local.console import Console
from local.lambdas.function_runtime import ERROR_HEADER, INVOKE_PATH_PREFIX
from local.lambdas.invocation import FunctionUnavailable, Invocation, PayloadTooLarge

TIMEOUT_SLACK_SECONDS = 0.5


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

    def invoke(self, event: Any) -> Invocation:
        """One invocation. Past the function's Timeout the environment is killed and the invocation fails with
        Lambda's timeout error (what the Invoke API answers then); an event or result over Lambda's payload limit
        is refused the way Lambda refuses it."""
        # Measured as compact JSON, as the Invoke API receives it (spaces or \u escapes would inflate it).
        body = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
        if len(body) > LAMBDA_SYNC_PAYLOAD_BYTES:
            raise PayloadTooLarge(f"{len(body)} byte payload is too large for the RequestResponse invocation type "
                                  f"(limit {LAMBDA_SYNC_PAYLOAD_BYTES} bytes)")
        connection = http.client.HTTPConnection("127.0.0.1", self._port, timeout=self._timeout)
        try:
            connection.request("POST", f"{INVOKE_PATH_PREFIX}{self.spec.logical_id}/invocations", body,
                               {"Content-Type": "application/json"})
            response = connection.getresponse()
            data = response.read()
            failed = response.getheader(ERROR_HEADER) is not None
        except TimeoutError:
            self._child.kill()
            return Invocation(payload={"errorType": "Sandbox.Timedout",
                                       "errorMessage": f"Task timed out after {self.spec.timeout:.2f} seconds"},
                              failed=True)
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
