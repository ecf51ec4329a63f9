"""The key check in one place (web/principal.py): every route create_app serves is private unless listed in
PUBLIC_ROUTES, refused before it runs, and reads its caller from `current_caller()` only."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from retouch.web.app import create_app
from retouch.web.openapi import openapi_document
from retouch.web.principal import PUBLIC_ROUTES, current_caller, registered_routes, route_key
from retouch.web.route_groups import RouteGroup
from retouch.web.routes import system
from tests.builders import http_event

ACCOUNT = "acct_abcdefghij0123456789"


def _probe_app() -> tuple[APIGatewayHttpResolver, list[str]]:
    """An app with one route that nobody marked either way (GET /v1/models, the sample event's), recording its runs."""
    router = Router()
    runs: list[str] = []

    @router.get("/v1/models")
    def probe() -> dict:
        caller = current_caller()
        runs.append(caller.account_id)
        return {"account_id": caller.account_id, "key_id": caller.key_id}

    return create_app([RouteGroup(router)], []), runs


def _resolve(app: APIGatewayHttpResolver, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = app.resolve(event, LambdaContext())  # no route here reads the Lambda context
    return response["statusCode"], json.loads(response["body"])


def _request(method: str, path: str, *, account_id: str | None) -> dict[str, Any]:
    event = http_event("list_models.json", account_id=account_id)
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {path}"
    return event


def test_a_private_routes_caller_comes_from_the_authorizer_context() -> None:
    # Given an event the authorizer resolved to an account and key
    app, _ = _probe_app()

    # When a route reads its caller
    status, body = _resolve(app, http_event("list_models.json", account_id=ACCOUNT))

    # Then it is the authorizer's
    assert status == 200
    assert body == {"account_id": ACCOUNT, "key_id": "key_sample0000000000"}


@pytest.mark.parametrize("shape", ["empty-account", "no-lambda-context", "no-authorizer"])
def test_no_account_is_401_invalid_api_key_before_the_route_runs(shape: str) -> None:
    # Given a route nobody marked public, and an event the authorizer passed without an account (unknown key),
    # or without any authorizer (the sync function's Function URL before its own check)
    app, runs = _probe_app()
    raw = http_event("list_models.json", account_id=None)
    if shape == "no-lambda-context":
        raw["requestContext"]["authorizer"] = {}
    if shape == "no-authorizer":
        del raw["requestContext"]["authorizer"]

    # When it is resolved
    status, body = _resolve(app, raw)

    # Then it is OpenAI's 401, from the one error map, and the route never ran
    assert status == 401
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert (body["error"]["code"], body["error"]["type"]) == ("invalid_api_key", "invalid_request_error")
    assert runs == []


def test_a_route_added_to_the_app_after_create_app_is_private_too() -> None:
    # Given a route registered on the app itself, after create_app installed the check
    app, _ = _probe_app()
    runs: list[str] = []

    @app.post("/v1/something-new")
    def something_new() -> dict:
        runs.append("ran")
        return {}

    # When it is called without an account, then with one
    refused, _ = _resolve(app, _request("POST", "/v1/something-new", account_id=None))
    allowed, _ = _resolve(app, _request("POST", "/v1/something-new", account_id=ACCOUNT))

    # Then only the caller with an account reaches it
    assert (refused, allowed) == (401, 200)
    assert runs == ["ran"]


# Public, but not the system's: upstreams' callbacks and Stripe's webhook, each verifying its caller's signature instead
# of a key (tests/unit/jobs/test_upstream_callbacks.py, tests/integration/payments/test_payments_function.py refuse
# unsigned and forged ones).
SIGNATURE_VERIFIED_ROUTES = {("POST", "/v1/upstream-callbacks/{upstream}/{job_id}"),
                             ("POST", "/v1/billing/stripe/webhook")}


def test_the_public_routes_are_the_system_routes_and_answer_without_a_key() -> None:
    # Given the app serving health and the API docs
    app = create_app([system.routes], [])

    # Then its routes, and the routes verified by a signature instead of a key, are exactly the public list
    assert {route_key(route) for route in registered_routes(app)} | SIGNATURE_VERIFIED_ROUTES == PUBLIC_ROUTES

    # and each system route answers a request that carries no account
    for method, path in sorted(PUBLIC_ROUTES - SIGNATURE_VERIFIED_ROUTES):
        response = app.resolve(_request(method, path, account_id=None), LambdaContext())
        assert response["statusCode"] == 200, (method, path)


def test_the_openapi_document_asks_no_key_of_exactly_the_public_routes() -> None:
    # Given the served OpenAPI document
    document = json.loads(openapi_document())

    # Then the operations that override its bearer requirement are the public list
    keyless = {(method.upper(), path) for path, operations in document["paths"].items()
               for method, operation in operations.items() if operation.get("security") == []}
    assert keyless == PUBLIC_ROUTES


def test_current_caller_on_a_public_route_is_a_server_error_not_a_guess() -> None:
    # Given a public route that asks for a caller it cannot have
    router = Router()

    @router.get("/health")
    def health() -> dict:
        return {"account_id": current_caller().account_id}

    # When it is called, even with an account
    status, body = _resolve(create_app([RouteGroup(router)], []), _request("GET", "/health", account_id=ACCOUNT))

    # Then it fails loudly rather than answering for an unchecked caller
    assert status == 500 and body["error"]["type"] == "server_error"


def test_the_caller_lasts_only_as_long_as_the_route() -> None:
    # Given a request that reached a private route
    app, runs = _probe_app()
    assert _resolve(app, http_event("list_models.json", account_id=ACCOUNT))[0] == 200

    # Then outside it there is no caller to read
    assert runs == [ACCOUNT]
    with pytest.raises(RuntimeError):
        current_caller()


def test_a_router_included_in_two_apps_reads_the_caller_of_the_app_resolving() -> None:
    # Given one router included in a function's app and then in another (as the OpenAPI document's app does)
    router = Router()

    @router.get("/v1/models")
    def models() -> dict:
        return {"account_id": current_caller().account_id}

    first = create_app([RouteGroup(router)], [])
    create_app([RouteGroup(router)], [])

    # When the first app resolves a request
    status, body = _resolve(first, http_event("list_models.json", account_id=ACCOUNT))

    # Then the route sees that request's caller
    assert (status, body) == (200, {"account_id": ACCOUNT})


@pytest.mark.parametrize("account_id", [None, ACCOUNT], ids=["no-key", "key"])
def test_an_unknown_route_is_404_with_or_without_a_key(account_id: str | None) -> None:
    # Given a path no route serves (the sync function's URL passes every path to the app)
    app, _ = _probe_app()

    # When it is requested
    status, body = _resolve(app, _request("GET", "/v1/nothing-here", account_id=account_id))

    # Then the answer is the 404, as before the key check existed
    assert status == 404 and body["error"]["code"] == "not_found"
