"""local.gateway and local.authorizer: routing, the Lambda authorizer and its cache, with fake functions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from local.authorizer import LambdaAuthorizer
from local.functions import FunctionUnavailable, Invocation
from local.gateway import Gateway
from local.http_events import HttpRequest, RequestMeta
from local.routes import RouteTable
from local.template import AuthorizerSpec, HttpRouteSpec

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
