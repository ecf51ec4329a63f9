"""A function's execution environment: its Lambda-like process environment, the host process, invoking it."""

from __future__ import annotations

import http.client
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from local import REPO_ROOT
from local.aws import LOCAL_CREDENTIAL
from local.aws.limits import LAMBDA_SYNC_PAYLOAD_BYTES, LAMBDA_SYNC_RESPONSE_BYTES
from local.child_process import ChildProcess
from local.cloudformation.intrinsics import ACCOUNT_ID, REGION
from local.cloudformation.template import FunctionSpec
from local.console import Console
from local.lambdas.function_runtime import ERROR_HEADER, INVOKE_PATH_PREFIX

# From the developer's shell, only what a process needs to run and to reach the real provider
# through a proxy; everything else (AWS profiles, OPENAI_API_KEY, RETOUCH_*) stays out, as in Lambda.
_PASSTHROUGH = ("PATH", "HOME", "LANG", "TMPDIR", "SYSTEMROOT", "SSL_CERT_FILE", "SSL_CERT_DIR",
                "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "RETOUCH_LOCAL_PROFILE_DIR")
_LOOPBACK = "127.0.0.1,localhost"
TIMEOUT_SLACK_SECONDS = 0.5


class FunctionUnavailable(RuntimeError):
    """The host could not be reached (stopped, crashed): the invocation did not run to an answer."""


class PayloadTooLarge(RuntimeError):
    """The event is over Lambda's synchronous payload limit: Lambda refuses it before the function runs."""


class FunctionError(RuntimeError):
    """The handler raised; `payload` is Lambda's errorMessage/errorType/stackTrace."""

    def __init__(self, function_id: str, payload: Any) -> None:
        message = payload.get("errorMessage") if isinstance(payload, dict) else payload
        super().__init__(f"{function_id} failed: {message}")
        self.payload = payload


@dataclass(frozen=True)
class Invocation:
    payload: Any
    failed: bool  # the handler raised (Lambda's X-Amz-Function-Error)


def aws_environment(endpoint_url: str) -> dict[str, str]:
    """What every boto3 client of the stack needs to reach the emulation (and nothing real)."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIAL,
        "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIAL,
        # Keep a developer's ~/.aws (profiles, SSO, endpoint overrides) out of the local stack.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


def base_environment() -> dict[str, str]:
    env = {key: os.environ[key] for key in _PASSTHROUGH if key in os.environ}
    no_proxy = os.environ.get("NO_PROXY") or os.environ.get("no_proxy")
    env["NO_PROXY"] = f"{no_proxy},{_LOOPBACK}" if no_proxy else _LOOPBACK
    env["PYTHONUNBUFFERED"] = "1"  # line-by-line output for the console prefixing
    return env


def lambda_environment(
    spec: FunctionSpec,
    template_variables: Mapping[str, str],
    *,
    function_name: str,
    aws_endpoint_url: str,
    runtime: str = "python3.13",
) -> dict[str, str]:
    """The process environment of one function: its template variables plus what Lambda itself sets."""
    env = base_environment()
    env.update(template_variables)
    env.update(aws_environment(aws_endpoint_url))
    env.update({
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{spec.short_name}",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "TZ": "UTC",
        # boto3 adds `app/<name>` to its User-Agent: the bench tells which function made each recorded AWS request.
        # Behaviour is unchanged (AWS accepts the same variable); only the header names its caller.
        "AWS_SDK_UA_APP_ID": spec.short_name,
        # What `sam local` sets: Powertools then skips X-Ray (there is no daemon to send traces to).
        "AWS_SAM_LOCAL": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "RETOUCH_LOCAL_FUNCTION_ARN": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}",
        # Only so `-m local.lambdas.function_runtime` imports; the host drops it from sys.path before the handler loads.
        "PYTHONPATH": str(REPO_ROOT),
    })
    return env


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
