"""What invoking a function gives back, the way Lambda's Invoke API says it: a result, a handler error, or no answer.

Spoken by everything that invokes (the API gateway, the authorizer, the SQS poller, schedules) and by the hosts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


class FunctionUnavailable(RuntimeError):
    """The host could not be reached (stopped, crashed): the invocation did not run to an answer."""


class Throttled(FunctionUnavailable):
    """Lambda's TooManyRequestsException (ReservedFunctionConcurrentInvocationLimitExceeded): as many invocations
    of the function are running as its reserved concurrency; a synchronous invocation past it is refused, not queued."""


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


@dataclass(frozen=True)
class StreamedInvocation:
    """A streaming invocation's answer: its bytes as the function writes them (InvokeWithResponseStream). The
    environment stays busy until they are read to the end or closed."""

    chunks: Iterator[bytes]
