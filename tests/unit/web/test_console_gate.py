"""The console's gate (retouch/web/console_gate.py) over fakes: the prefix stripped, the cookie's session made the
caller, an API key ignored, 401 `not_signed_in` without a live session, 403 `csrf_failed` for an unsafe request without
the session's token or from another origin, and the console's public routes reachable without a session."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from retouch.console.ports import Identity
from retouch.console.sessions import SessionDeps, start_session
from retouch.models.console import MemberRecord
from retouch.web.app import create_app
from retouch.web.console_gate import CONSOLE_PUBLIC_ROUTES, ConsoleGate, RequireCsrf, current_session, not_signed_in
from retouch.web.principal import RequireCaller, current_caller
from retouch.web.route_groups import RouteGroup
from tests.builders import load_event
from tests.fakes.console import FakePeople, FakeSessions

ACCOUNT = "acct_abcdefghij0123456789"
ORIGIN = "https://d111111abcdef8.cloudfront.net"  # the samples' Host


def gate() -> tuple[ConsoleGate, str, str]:
    """A gate over an app with a public sign-in and a private probe; a signed-in person's (secret, csrf token)."""
    router = Router()

    @router.post("/auth/sign_in")
    def sign_in() -> dict[str, Any]:
        return {"public": True}

    @router.route("/probe", method=["GET", "POST", "DELETE"])
    def probe() -> dict[str, Any]:
        caller = current_caller()
        return {"account_id": caller.account_id, "user": caller.console_user, "role": caller.console_role,
                "email": current_session().email}

    people, sessions = FakePeople(), FakeSessions()
    member = MemberRecord(user_sub="sub-1", account_id=ACCOUNT, email="ada@example.com", account_role="owner",
                          joined_at=0)
    people.add_member(member)
    deps = SessionDeps(sessions=sessions, people=people)
    started = start_session(deps, Identity(sub="sub-1", email="ada@example.com", operator=False), member,
                            int(time.time()))
    app = create_app([RouteGroup(router)], [], caller_check=RequireCaller(CONSOLE_PUBLIC_ROUTES, not_signed_in),
                     guards=[RequireCsrf(None)])
    return ConsoleGate(app, deps), started.secret, started.record.csrf_token


def request(method: str, path: str, *, secret: str | None = None, csrf: str | None = None,
            origin: str | None = ORIGIN, authorization: str | None = None) -> dict[str, Any]:
    event = load_event("console_get_session.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/console/api{path}"
    event["requestContext"]["http"]["method"] = method
    event.pop("cookies", None)
    if secret is not None:
        event["cookies"] = [f"__Host-retouch_session={secret}"]
    for name, value in (("x-csrf-token", csrf), ("origin", origin), ("authorization", authorization)):
        if value is not None:
            event["headers"][name] = value
    return event


def answer(console: ConsoleGate, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = console.handle(event, LambdaContext())
    return response["statusCode"], json.loads(response["body"])


def test_a_session_cookie_is_the_caller_of_the_route_under_the_stripped_path() -> None:
    console, secret, _ = gate()
    status, body = answer(console, request("GET", "/probe", secret=secret))
    assert status == 200
    assert body == {"account_id": ACCOUNT, "user": "sub-1", "role": "member", "email": "ada@example.com"}


@pytest.mark.parametrize("situation", ["none", "unknown", "api-key", "forged-context"])
def test_no_live_session_is_401_not_signed_in(situation: str) -> None:
    console, _, _ = gate()
    event = request("GET", "/probe", secret="unknown" if situation == "unknown" else None,
                    authorization="Bearer rt_live_abc" if situation == "api-key" else None)
    if situation == "forged-context":  # whatever context the request carries is replaced
        event["requestContext"]["authorizer"] = {"lambda": {"account_id": ACCOUNT, "console_user": "sub-1"}}
    status, body = answer(console, event)
    assert (status, body["error"]["code"]) == (401, "not_signed_in")


@pytest.mark.parametrize(("csrf", "origin"), [(None, ORIGIN), ("wrong", ORIGIN), ("right", None),
                                              ("right", "https://evil.example")])
@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_an_unsafe_request_without_the_token_or_from_elsewhere_is_403_csrf_failed(csrf: str | None,
                                                                                  origin: str | None,
                                                                                  method: str) -> None:
    console, secret, token = gate()
    status, body = answer(console, request(method, "/probe", secret=secret, origin=origin,
                                           csrf=token if csrf == "right" else csrf))
    assert (status, body["error"]["code"], body["error"]["type"]) == (403, "csrf_failed", "permission_error")


def test_an_unsafe_request_with_the_token_from_the_console_passes() -> None:
    console, secret, token = gate()
    assert answer(console, request("POST", "/probe", secret=secret, csrf=token))[0] == 200


def test_the_public_sign_in_needs_no_session_but_its_own_origin() -> None:
    console, _, _ = gate()
    assert answer(console, request("POST", "/auth/sign_in")) == (200, {"public": True})
    status, body = answer(console, request("POST", "/auth/sign_in", origin="https://evil.example"))
    assert (status, body["error"]["code"]) == (403, "csrf_failed")


def test_a_path_outside_the_prefix_finds_no_route() -> None:
    console, secret, _ = gate()
    event = request("GET", "/probe", secret=secret)
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/probe"
    assert answer(console, event)[0] == 404
