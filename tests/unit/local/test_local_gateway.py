"""local.api_gateway (gateway, authorizer): routing, the Lambda authorizer and its cache, with fake functions."""

from __future__ import annotations

import io
import json
import threading
import time
from datetime import UTC, datetime
from email.message import Message
from typing import Any

import pytest

from local.api_gateway.authorizer import LambdaAuthorizer
from local.api_gateway.gateway import FUNCTION_URL_LIMITS, EntryLimits, Gateway, _TooLarge, read_request_body
from local.api_gateway.http_events import HttpRequest, RequestMeta
from local.api_gateway.routes import FunctionUrlRoutes, RouteTable
from local.aws.limits import HTTP_API_MAX_BODY_BYTES
from local.cloudformation.template import AuthorizerSpec, HttpRouteSpec
from local.lambdas.invocation import FunctionUnavailable, Invocation, PayloadTooLarge

AUTHORIZER = AuthorizerSpec(name="Keys", function_id="AuthFn", identity_headers=("authorization",),
                            reauthorize_every=30, payload_format_version="2.0", simple_responses=True)
ROUTES = [
    HttpRouteSpec("ApiFn", "Edit", "POST", "/v1/images/edits", "Keys"),
    HttpRouteSpec("ApiFn", "Health", "GET", "/health", None),
]


class FakeFunctions:
    """Records invocations; the authorizer allows `Bearer good`, the api echoes its event."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.api_result: Any = None
        self.api_fails = False
        self.authorizer_fails = False

    def invoke(self, function_id: str, event: dict[str, Any]) -> Invocation:
        self.calls.append((function_id, event))
        if function_id == "AuthFn":
            if self.authorizer_fails:
                return Invocation({"errorMessage": "boom", "errorType": "RuntimeError"}, failed=True)
            allowed = event["headers"].get("authorization") == "Bearer good"
            return Invocation({"isAuthorized": allowed, "context": {"account_id": "acct_1"}}, failed=False)
        if self.api_fails:
            return Invocation({"errorMessage": "boom", "errorType": "RuntimeError"}, failed=True)
        result = self.api_result or {"statusCode": 200, "body": json.dumps(event)}
        return Invocation(result, failed=False)

    def count(self, function_id: str) -> int:
        return sum(1 for fid, _ in self.calls if fid == function_id)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def functions() -> FakeFunctions:
    return FakeFunctions()


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def gateway(functions: FakeFunctions, clock: Clock) -> Gateway:
    authorizers = {"Keys": LambdaAuthorizer(AUTHORIZER, functions.invoke, clock=clock)}
    return Gateway(RouteTable(ROUTES), authorizers, functions.invoke,
                   new_meta=lambda: RequestMeta("req-1", datetime(2026, 1, 1, tzinfo=UTC)))


def req(method: str = "POST", path: str = "/v1/images/edits", key: str | None = "Bearer good") -> HttpRequest:
    headers = [("Authorization", key)] if key is not None else []
    return HttpRequest(method=method, raw_path=path, raw_query="", headers=headers, body=b"")


def body(response) -> Any:
    return json.loads(response.body)


def test_unknown_route_is_apigateways_404(gateway, functions):
    response = gateway.handle(req("GET", "/nope"))
    assert (response.status, body(response)) == (404, {"message": "Not Found"})
    assert functions.calls == []


def test_public_route_runs_without_the_authorizer(gateway, functions):
    response = gateway.handle(req("GET", "/health", key=None))
    assert response.status == 200
    assert functions.count("AuthFn") == 0
    assert "authorizer" not in body(response)["requestContext"]


def test_missing_identity_header_is_401_without_invoking_the_authorizer(gateway, functions):
    response = gateway.handle(req(key=None))
    assert (response.status, body(response)) == (401, {"message": "Unauthorized"})
    assert functions.calls == []


def test_denied_identity_is_403(gateway, functions):
    response = gateway.handle(req(key="Bearer bad"))
    assert (response.status, body(response)) == (403, {"message": "Forbidden"})
    assert functions.count("ApiFn") == 0


def test_allowed_identity_passes_the_authorizer_context_to_the_route(gateway, functions):
    response = gateway.handle(req())
    assert response.status == 200
    assert body(response)["requestContext"]["authorizer"] == {"lambda": {"account_id": "acct_1"}}
    authorizer_event = functions.calls[0][1]
    assert authorizer_event["type"] == "REQUEST" and authorizer_event["identitySource"] == ["Bearer good"]


def test_authorizer_results_are_cached_per_identity_for_reauthorize_every(gateway, functions, clock):
    # Given one authorized request
    gateway.handle(req())
    # When the same key comes back within 30 s, and a denied key twice
    clock.now += 29
    gateway.handle(req())
    gateway.handle(req(key="Bearer bad"))
    gateway.handle(req(key="Bearer bad"))
    # Then the authorizer ran once per identity
    assert functions.count("AuthFn") == 2
    # And after 30 s it runs again
    clock.now += 2
    gateway.handle(req())
    assert functions.count("AuthFn") == 3


def test_a_failing_authorizer_is_a_500(gateway, functions):
    functions.authorizer_fails = True
    response = gateway.handle(req())
    assert (response.status, body(response)) == (500, {"message": "Internal Server Error"})


def test_a_failing_function_is_a_500(gateway, functions):
    functions.api_fails = True
    assert gateway.handle(req()).status == 500


def test_a_malformed_function_result_is_a_500(gateway, functions):
    functions.api_result = {"statusCode": "not-a-number"}
    assert gateway.handle(req()).status == 500


def test_an_unreachable_function_is_a_500(clock):
    def unreachable(function_id: str, event: dict[str, Any]) -> Invocation:
        raise FunctionUnavailable("gone")

    gateway = Gateway(RouteTable(ROUTES), {}, unreachable)
    assert gateway.handle(req("GET", "/health", key=None)).status == 500


def test_a_bug_in_the_request_path_is_a_logged_500():
    def broken(function_id: str, event: dict[str, Any]) -> Invocation:
        raise KeyError("unexpected")

    lines: list[str] = []
    gateway = Gateway(RouteTable(ROUTES), {}, broken, log=lines.append)
    response = gateway.handle(req("GET", "/health", key=None))
    assert (response.status, body(response)) == (500, {"message": "Internal Server Error"})
    assert any("KeyError" in line for line in lines)


# -- AWS's limits (local.aws.limits) ------------------------------------------------------------------------


def test_a_body_over_the_http_apis_10_mb_is_413_and_reaches_no_function(gateway, functions):
    request = HttpRequest(method="POST", raw_path="/v1/images/edits", raw_query="",
                          headers=[("Authorization", "Bearer good")], body=b"x" * (HTTP_API_MAX_BODY_BYTES + 1))
    response = gateway.handle(request)
    assert (response.status, body(response)) == (413, {"message": "Request Entity Too Large"})
    assert functions.calls == []


def test_an_event_lambda_refuses_as_too_large_is_413(functions):
    def refuse(function_id: str, event: dict[str, Any]) -> Invocation:
        raise PayloadTooLarge("6291457 byte payload is too large")

    gateway = Gateway(RouteTable(ROUTES), {}, refuse)
    response = gateway.handle(req("GET", "/health", key=None))
    assert (response.status, body(response)) == (413, {"message": "Request Entity Too Large"})


def test_an_integration_past_the_timeout_is_503_while_the_function_goes_on():
    # Given an integration timeout of 0.2 s and a function that takes 1 s
    finished = threading.Event()

    def slow(function_id: str, event: dict[str, Any]) -> Invocation:
        time.sleep(1)
        finished.set()
        return Invocation({"statusCode": 200, "body": "late"}, failed=False)

    gateway = Gateway(RouteTable(ROUTES), {}, slow, limits=EntryLimits(max_body_bytes=None, integration_timeout=0.2))
    # When it is called, then the caller gets API Gateway's 503 at the timeout, and the function still finishes
    started = time.monotonic()
    response = gateway.handle(req("GET", "/health", key=None))
    assert (response.status, body(response)) == (503, {"message": "Service Unavailable"})
    assert time.monotonic() - started < 0.9
    assert finished.wait(3)


def test_integrations_are_never_queued_behind_others_however_many_are_running():
    # Given 100 requests at once to a function whose invocations all wait for each other (as 100 Lambda environments
    # would run side by side); a bounded pool would hold some back and the barrier would never fill
    together = threading.Barrier(100, timeout=10)

    def meet(function_id: str, event: dict[str, Any]) -> Invocation:
        together.wait()
        return Invocation({"statusCode": 200, "body": "met"}, failed=False)

    gateway = Gateway(RouteTable(ROUTES), {}, meet, limits=EntryLimits(max_body_bytes=None, integration_timeout=30))
    answers: list[int] = []
    callers = [threading.Thread(target=lambda: answers.append(gateway.handle(req("GET", "/health", key=None)).status))
               for _ in range(100)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(30)
    # Then every one of them ran at once and answered
    assert answers == [200] * 100


def test_a_function_url_sends_every_path_to_its_function_as_the_default_route(functions):
    gateway = Gateway(FunctionUrlRoutes("SyncFn"), {}, functions.invoke, limits=FUNCTION_URL_LIMITS)
    response = gateway.handle(req("POST", "/v1/images/edits", key="Bearer anything"))
    event = body(response)
    assert response.status == 200 and functions.calls[0][0] == "SyncFn"
    assert event["routeKey"] == "$default" and event["requestContext"]["routeKey"] == "$default"
    assert "authorizer" not in event["requestContext"] and event["rawPath"] == "/v1/images/edits"


def test_a_function_url_answers_a_failed_function_with_502(functions):
    functions.api_fails = True
    gateway = Gateway(FunctionUrlRoutes("ApiFn"), {}, functions.invoke, limits=FUNCTION_URL_LIMITS)
    response = gateway.handle(req("POST", "/v1/images/edits"))
    assert (response.status, body(response)) == (502, {"message": "Internal Server Error"})


class _CountingBody(io.BytesIO):
    """A request body on the socket that remembers the largest piece the gateway read of it at once."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.largest_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.largest_read = max(self.largest_read, len(chunk))
        return chunk


def _headers(**fields: str) -> Message:
    message = Message()
    for name, value in fields.items():
        message[name.replace("_", "-")] = value
    return message


def test_a_body_over_the_limit_is_refused_and_read_off_the_socket_in_pieces_never_whole() -> None:
    # Given a request of 11 MB to a 10 MB entry
    sent = _CountingBody(b"x" * (11 * 1024 * 1024))
    # When the gateway reads it, it refuses it, as API Gateway does
    with pytest.raises(_TooLarge):
        read_request_body(_headers(Content_Length=str(11 * 1024 * 1024)), sent, 10 * 1024 * 1024)
    # And it read all of it (the connection stays usable) but never more than 1 MB at once
    assert sent.tell() == 11 * 1024 * 1024 and sent.largest_read <= 1024 * 1024


def test_a_chunked_body_over_the_limit_is_refused_once_read_to_its_end() -> None:
    # Given five chunks of 4 bytes
    chunks = b"".join(b"4\r\nabcd\r\n" for _ in range(5)) + b"0\r\n\r\n"
    # When they are sent to an entry that takes 10 bytes, the request is refused once read to its end
    sent = _CountingBody(chunks)
    with pytest.raises(_TooLarge):
        read_request_body(_headers(Transfer_Encoding="chunked"), sent, 10)
    assert sent.tell() == len(chunks)
    # And under the limit the same framing reads whole
    assert read_request_body(_headers(Transfer_Encoding="chunked"), io.BytesIO(chunks), 20) == b"abcd" * 5
