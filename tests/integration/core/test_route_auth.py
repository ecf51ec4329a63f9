"""Every route of the api, status and sync functions, enumerated from template.yaml and the functions' own resolvers:
each function serves what its list (web/functions.py) and the template say, every routes module is served by some
function, the public ones are exactly the intended few, and each other route answers OpenAI's 401 without a usable
key."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from retouch.admin.accounts import issue_key, revoke_key
from retouch.auth.keys import generate_api_key
from retouch.data.accounts import AccountRepository
from retouch.web.console_gate import CONSOLE_PUBLIC_ROUTES
from retouch.web.functions import CONSOLE_MOUNTED_GROUPS, ROUTES, route_group, route_groups
from retouch.web.principal import PUBLIC_ROUTES, registered_routes, route_key
from tests.builders import authorizer_event, http_event, new_account_id, new_job_id
from tests.integration.core.aws_stack import REPO_ROOT, Stack, client, json_body
from tests.integration.core.device_tokens import device_token_header

# What is meant to answer without a key: health, the API's own documentation and Stripe's webhook (which verifies
# each request's Stripe signature instead), nothing else.
INTENDED_PUBLIC = {("GET", "/health"), ("GET", "/openapi.json"), ("GET", "/docs"),
                   ("GET", "/docs/swagger-ui-bundle.min.js"), ("GET", "/docs/swagger-ui.min.css"),
                   # upstreams' callbacks, authenticated by the upstream's own signature instead of a key
                   ("POST", "/v1/upstream-callbacks/{upstream}/{job_id}"),
                   ("POST", "/v1/billing/stripe/webhook")}
GATEWAY_FUNCTIONS = ("ApiFunction", "StatusFunction", "PaymentsFunction")  # behind the HTTP API and its authorizer
URL_FUNCTIONS = ("SyncFunction",)  # a Function URL with no authorizer: the function checks the key itself
# The console's backend (issue 21): one greedy HTTP API route without the authorizer; the function declares its routes
# (web/functions.py) and checks its session cookie itself: every route but sign-up and sign-in needs a live session.
CONSOLE_FUNCTION = "ConsoleFunction"
CONSOLE_PROXY = ("ANY", "/console/api/{proxy+}")
INTENDED_CONSOLE_PUBLIC = {("POST", "/auth/sign_up"), ("POST", "/auth/verify"), ("POST", "/auth/resend"),
                           ("POST", "/auth/sign_in")}
# Function URLs that serve none of the HTTP API's routes: the MCP server (issue 22; test_mcp_function.py)
NOT_API_URL_FUNCTIONS = ("McpFunction",)
SITUATIONS = ("no-key", "unknown-key", "revoked-key")
PATH_VALUES = {"job_id": new_job_id(), "file_id": "file_" + "a" * 24, "model_id": "gpt-image-2",
               "user": "u_other", "erasure_id": "erase_" + "a" * 24, "token_id": "ctok_" + "a" * 24,
               "user_id": "00000000-0000-4000-8000-000000000000",
               "key_id": "key_" + "a" * 16, "account_id": new_account_id()}  # the console's keys and operator routes
ROUTES_PACKAGE = REPO_ROOT / "layers" / "common" / "retouch" / "web" / "routes"


def _app(stack: Stack, function_id: str) -> APIGatewayHttpResolver:
    """The resolver the function's handler serves (its module's `app`)."""
    return sys.modules[stack.handler(function_id).__module__].app


def _template_routes(stack: Stack, function_id: str) -> set[tuple[str, str]]:
    return {(route.method, route.path) for route in stack.template.http_routes if route.function_id == function_id}


def _served(stack: Stack, function_id: str) -> set[tuple[str, str]]:
    return {route_key(route) for route in registered_routes(_app(stack, function_id))}


def _listed(function_id: str) -> set[tuple[str, str]]:
    """The routes of the groups web/functions.py lists for the function, as the template spells them."""
    return {(method.upper(), re.sub(r"<(\w+)>", r"{\1}", rule))
            for group in route_groups(function_id) for rule, methods, *_ in group.router._routes for method in methods}


def _routes_modules(package: Path) -> set[str]:
    return {path.stem for path in package.glob("*.py") if path.stem != "__init__"}


def test_each_http_function_serves_what_its_list_and_the_template_say(stack: Stack) -> None:
    # Given the functions template.yaml routes HTTP to, and those with a Function URL
    routed = {route.function_id for route in stack.template.http_routes}

    # Then web/functions.py lists exactly those functions
    api_urls = set(stack.template.function_urls) - set(NOT_API_URL_FUNCTIONS)
    assert set(ROUTES) == routed | api_urls == {*GATEWAY_FUNCTIONS, *URL_FUNCTIONS, CONSOLE_FUNCTION}
    assert set(NOT_API_URL_FUNCTIONS) <= set(stack.template.function_urls)  # the exception stays a real one
    # and each gateway function serves its list, which is its template routes (a route added to a router or to the
    # template alone fails here)
    for function_id in GATEWAY_FUNCTIONS:
        assert _served(stack, function_id) == _listed(function_id) == _template_routes(stack, function_id), function_id
    # while a URL function (no routes in the template: every path reaches it) serves its list, each route one the
    # template declares for a gateway function (one API, two entries)
    declared = set().union(*(_template_routes(stack, function_id) for function_id in GATEWAY_FUNCTIONS))
    for function_id in URL_FUNCTIONS:
        assert _served(stack, function_id) == _listed(function_id) <= declared, function_id


def test_the_console_serves_its_own_routes_outside_v1_and_mounts_the_templates_own(stack: Stack) -> None:
    # Given the console function: one greedy route in the template, its routes in its list
    declared = set().union(*(_template_routes(stack, function_id) for function_id in GATEWAY_FUNCTIONS))
    served = _served(stack, CONSOLE_FUNCTION)
    mounted = {route_key(route) for group in route_groups(CONSOLE_FUNCTION) for route in _group_routes(group)
               if group.router in {g.router for name in CONSOLE_MOUNTED_GROUPS for g in [route_group(name)]}}

    # Then API Gateway sends it exactly its prefix, and it serves its list
    assert _template_routes(stack, CONSOLE_FUNCTION) == {CONSOLE_PROXY}
    assert served == _listed(CONSOLE_FUNCTION)
    # and each mounted public group's routes are the template's own (`/console/api/v1/jobs` is `GET /v1/jobs`), served
    # by a gateway function too, while the console's own routes are outside the public API's paths
    assert mounted and mounted <= declared
    own = served - mounted
    assert own >= INTENDED_CONSOLE_PUBLIC
    assert all(not path.startswith("/v1") for _, path in own) and not own & declared


def _group_routes(group: Any) -> list[Any]:
    app = APIGatewayHttpResolver()
    app.include_router(group.router)
    return registered_routes(app)


def test_every_routes_module_is_served_by_some_function() -> None:
    # Given the routes modules under web/routes/
    modules = _routes_modules(ROUTES_PACKAGE)

    # Then each is on some function's list, and each listed name is a module
    assert set().union(*map(set, ROUTES.values())) == modules


def test_the_module_check_finds_an_unlisted_routes_module(tmp_path: Path) -> None:
    # Given a routes package with a module no function lists
    for name in ("__init__", "images", "orphan"):
        (tmp_path / f"{name}.py").write_text("")

    # Then the check sees it
    assert _routes_modules(tmp_path) - set().union(*map(set, ROUTES.values())) == {"orphan"}


def test_the_public_routes_are_exactly_the_intended_ones_in_the_template_and_the_code(stack: Stack) -> None:
    # Given the routes template.yaml declares and the routes each function's resolver serves
    no_authorizer = {(route.method, route.path) for route in stack.template.http_routes if route.authorizer is None}

    # Then the routes API Gateway lets through without its authorizer are the code's public list, the intended ones,
    # and the console's prefix, whose function's own public list is sign-up and sign-in alone
    assert no_authorizer == set(PUBLIC_ROUTES) | {CONSOLE_PROXY}
    assert set(PUBLIC_ROUTES) == INTENDED_PUBLIC
    assert set(CONSOLE_PUBLIC_ROUTES) == INTENDED_CONSOLE_PUBLIC
    # while the sync URL (which any request reaches) serves no public route
    for function_id in URL_FUNCTIONS:
        assert _template_routes(stack, function_id) == set()
        assert _served(stack, function_id) and not _served(stack, function_id) & PUBLIC_ROUTES, function_id


def _authorization(situation: str, stack: Stack, account_id: str) -> str | None:
    if situation == "no-key":
        return None
    if situation == "unknown-key":
        return f"Bearer {generate_api_key()}"
    accounts = AccountRepository(stack.table, client("dynamodb"))
    issued = issue_key(accounts, account_id)
    revoke_key(accounts, account_id, issued.key_id)
    return f"Bearer {issued.raw_key}"


def _request(function_id: str, method: str, path: str, authorization: str | None,
             gateway_context: dict[str, Any] | None) -> dict[str, Any]:
    """The event the function receives: from API Gateway with its authorizer's context, or from the Function URL."""
    event = http_event("list_models.json", account_id=None)
    raw_path = re.sub(r"\{(\w+)\}", lambda match: PATH_VALUES[match.group(1)], path)
    event["rawPath"] = event["requestContext"]["http"]["path"] = raw_path
    event["requestContext"]["http"]["method"] = method
    event["headers"].pop("authorization")
    if authorization is not None:
        event["headers"]["authorization"] = authorization
    if gateway_context is None:
        event["routeKey"] = event["requestContext"]["routeKey"] = "$default"
        del event["requestContext"]["authorizer"]
    else:
        event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {path}"
        event["requestContext"]["authorizer"]["lambda"] = gateway_context
    return event


@pytest.mark.parametrize("function_id", GATEWAY_FUNCTIONS + URL_FUNCTIONS)
@pytest.mark.parametrize("situation", SITUATIONS)
def test_every_private_route_answers_openais_401_without_a_usable_key(function_id: str, situation: str,
                                                                      stack: Stack) -> None:
    # Given a key that cannot be used (none, unknown, or revoked), and what the authorizer makes of it
    account_id = stack.seed_account(new_account_id())
    authorization = _authorization(situation, stack, account_id)
    behind_gateway = function_id in GATEWAY_FUNCTIONS
    decision = stack.invoke("AuthorizerFunction", authorizer_event(authorization)) if behind_gateway else None
    private = sorted(_served(stack, function_id) - PUBLIC_ROUTES)
    assert private

    # When every private route of the function is called with it
    answers = {}
    for method, path in private:
        event = _request(function_id, method, path, authorization, decision["context"] if decision else None)
        response = stack.invoke(function_id, event)
        answers[(method, path)] = (response["statusCode"], json_body(response)["error"])

    # Then each answers OpenAI's 401 (the check ran before the route, which would have read no caller), and
    # nothing was created for the account
    for route, (status, error) in answers.items():
        assert status == 401, (route, error)
        assert error == {"message": "Incorrect API key provided. Send 'Authorization: Bearer <key>'.",
                         "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}, route
    assert stack.jobs_of(account_id) == []


@pytest.mark.parametrize("function_id", sorted(set(ROUTES) - {CONSOLE_FUNCTION}))  # the console reads no key at all
def test_a_device_token_reaches_no_route_outside_its_scopes(function_id: str, stack: Stack) -> None:
    """Every route of every function in web/functions.py's ROUTES (so a route added later is covered): a device token
    with every scope is refused each route a phone must not reach, and a token with no scope for a phone route is
    refused that one; each a 403 `client_token_forbidden`, before the route runs."""
    from retouch.web.client_token_scopes import DEVICE_ROUTES

    # Given an account, a token with every scope and one with only jobs:read
    account_id = stack.seed_account(new_account_id())
    every_scope = device_token_header(stack, account_id, sorted(set(DEVICE_ROUTES.values())))
    read_only = device_token_header(stack, account_id, ["jobs:read"])
    private = sorted(_served(stack, function_id) - PUBLIC_ROUTES)

    # When each private route is called with the token that must not reach it
    answers = {}
    for method, path in private:
        scope = DEVICE_ROUTES.get((method, path))
        if scope == "jobs:read":
            continue  # the read-only token may call it (own jobs only: tests/e2e/test_end_users.py)
        authorization = read_only if scope is not None else every_scope
        decision = (stack.invoke("AuthorizerFunction", authorizer_event(authorization))
                    if function_id not in URL_FUNCTIONS else None)
        event = _request(function_id, method, path, authorization, decision["context"] if decision else None)
        response = stack.invoke(function_id, event)
        answers[(method, path)] = (response["statusCode"], json_body(response)["error"])

    # Then each is refused with OpenAI's error shape, and nothing was created
    assert answers
    for route, (status, error) in answers.items():
        assert status == 403, (route, error)
        assert (error["type"], error["code"]) == ("permission_error", "client_token_forbidden"), route
    assert stack.jobs_of(account_id) == []


CONSOLE_SITUATIONS = ("no-cookie", "unknown-cookie", "expired-session", "api-key", "device-token")


def _console_request(method: str, path: str, situation: str, stack: Stack, account_id: str) -> dict[str, Any]:
    """What API Gateway hands the console function for `method path` (as its routes declare it) in `situation`."""
    event = _request(CONSOLE_FUNCTION, method, path, None, None)
    event["routeKey"] = event["requestContext"]["routeKey"] = "ANY /console/api/{proxy+}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/console/api" + event["rawPath"]
    event["headers"]["origin"] = "https://" + event["headers"]["host"]
    if situation == "unknown-cookie":
        event["cookies"] = [f"__Host-retouch_session={generate_api_key()}"]
    elif situation == "expired-session":
        event["cookies"] = [f"__Host-retouch_session={expired_session(stack, account_id)}"]
    elif situation == "api-key":
        accounts = AccountRepository(stack.table, client("dynamodb"))
        event["headers"]["authorization"] = f"Bearer {issue_key(accounts, account_id).raw_key}"
    elif situation == "device-token":
        event["headers"]["authorization"] = device_token_header(stack, account_id, ["jobs:read"])
    return event


def expired_session(stack: Stack, account_id: str) -> str:
    """A session of a member of the account whose idle end has passed (before the TTL removed it)."""
    from retouch.console.sessions import session_hash
    from retouch.data.console_people import PeopleRepository
    from retouch.data.console_sessions import ConsoleSessionRepository
    from retouch.models.console import ConsoleSessionRecord, MemberRecord

    secret, user = generate_api_key(), f"user-{new_account_id()}"
    PeopleRepository(stack.table, client("dynamodb")).add_member(MemberRecord(
        user_sub=user, account_id=account_id, email="expired@example.com", account_role="member", joined_at=1))
    ConsoleSessionRepository(stack.table, client("dynamodb")).put(ConsoleSessionRecord(
        session_hash=session_hash(secret), account_id=account_id, user_sub=user, email="expired@example.com",
        role="operator", csrf_token="t" * 43, created_at=1, last_seen_at=1, expires_at=2))
    return secret


@pytest.mark.parametrize("situation", CONSOLE_SITUATIONS)
def test_every_console_route_but_sign_up_and_sign_in_answers_401_without_a_live_session(situation: str,
                                                                                        stack: Stack) -> None:
    # Given a console request without a live session: none, an unknown or expired one, or an API key or device token
    # instead (the console reads no Authorization header)
    account_id = stack.seed_account(new_account_id())
    private = sorted(_served(stack, CONSOLE_FUNCTION) - CONSOLE_PUBLIC_ROUTES)
    assert private

    # When every other route of the console is called
    answers = {}
    for method, path in private:
        response = stack.invoke(CONSOLE_FUNCTION, _console_request(method, path, situation, stack, account_id))
        answers[(method, path)] = (response["statusCode"], json_body(response)["error"])

    # Then each answers 401 `not_signed_in` before the route runs (the mounted Stripe webhook too: in the console it is
    # no public route), and nothing was created for the account
    for route, (status, error) in answers.items():
        assert (status, error["code"], error["type"]) == (401, "not_signed_in", "invalid_request_error"), route
    assert stack.jobs_of(account_id) == []
