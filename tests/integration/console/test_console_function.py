"""The console function (functions/console/app.py) on events/console_*.json, against moto resources built from
template.yaml, with moto's Cognito taught to e-mail and check codes (local/aws/cognito_codes.py): sign-up, the e-mailed
code, verification, sign-in and its cookie, sessions, CSRF, the account's people, the auth routes' limits, the sign-up
credit, the mounted public API, and the operator made by retouch-admin."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from retouch.admin.cli import main as admin
from tests.builders import http_event, new_account_id
from tests.integration.console.console_requests import (
    CONSOLE,
    ORIGIN,
    PASSWORD,
    console_event,
    latest_code,
    new_email,
    session_secret,
    sign_in,
    sign_up,
    signed_in,
    verify,
)
from tests.integration.core.aws_stack import Stack, json_body


def error_code(response: dict[str, Any]) -> tuple[int, str]:
    return response["statusCode"], json_body(response)["error"]["code"]


def get(stack: Stack, path: str, secret: str | None) -> dict[str, Any]:
    return stack.invoke(CONSOLE, console_event("console_get_session.json", path=path, secret=secret))


def post(stack: Stack, path: str, body: Any, secret: str | None, csrf: str | None, *,
         origin: str | None = ORIGIN, method: str = "POST") -> dict[str, Any]:
    return stack.invoke(CONSOLE, console_event("console_invite_member.json", path=path, method=method, body=body,
                                               secret=secret, csrf=csrf, origin=origin))


@pytest.mark.parametrize("signs_in_by", ["verify", "sign_in"])
def test_sign_up_verify_and_sign_in_give_a_session_cookie_and_the_persons_own_account(stack: Stack,
                                                                                      signs_in_by: str) -> None:
    # Given a person who signs up
    email = new_email()
    signed_up = sign_up(stack, email, account_name="Ada's studio")
    assert (signed_up["statusCode"], json_body(signed_up)) == (202, {"status": "verification_sent", "email": email})

    # When they verify with the 6-digit code e-mailed to them and their password (which signs them in), or sign in
    verified = verify(stack, email, latest_code(email))
    response = verified if signs_in_by == "verify" else sign_in(stack, email)

    # Then the cookie is the session's: HttpOnly, Secure, SameSite=Strict, for the whole origin, no Domain
    assert response["statusCode"] == 200
    [cookie] = response["cookies"]
    parts = [part.strip() for part in cookie.split(";")]
    assert parts[0].startswith("__Host-retouch_session=") and len(parts[0]) > 60
    assert {"HttpOnly", "Secure", "SameSite=Strict", "Path=/"} <= set(parts)
    assert not any(part.lower().startswith("domain") for part in parts)
    # and the session names them and the account made for them
    view = json_body(response)
    assert view["user"]["email"] == email and view["user"]["role"] == "member"
    assert view["account"]["name"] == "Ada's studio"
    session = get(stack, "/session", session_secret(response))
    assert json_body(session) == view


def test_a_wrong_code_is_refused_and_a_resent_code_replaces_the_first(stack: Stack) -> None:
    email = new_email()
    sign_up(stack, email)
    first = latest_code(email)
    wrong = f"{(int(first) + 1) % 1_000_000:06d}"

    assert error_code(verify(stack, email, wrong)) == (400, "invalid_code")
    assert error_code(sign_in(stack, email)) == (403, "email_not_verified")

    resent = stack.invoke(CONSOLE, console_event("console_verify.json", path="/auth/resend", body={"email": email}))
    assert resent["statusCode"] == 202
    assert latest_code(email) != first
    assert error_code(verify(stack, email, first)) == (400, "invalid_code")
    assert verify(stack, email, latest_code(email))["statusCode"] == 200
    assert error_code(verify(stack, email, latest_code(email))) == (400, "invalid_code")  # used


def test_sign_up_refusals(stack: Stack) -> None:
    email = new_email()
    assert sign_up(stack, email)["statusCode"] == 202
    assert sign_up(stack, email.upper())["statusCode"] == 202  # unverified: replaced
    assert verify(stack, email, latest_code(email))["statusCode"] == 200
    assert error_code(sign_up(stack, email.upper())) == (409, "email_taken")
    weak = stack.invoke(CONSOLE, console_event("console_sign_up.json", body={"email": new_email(),
                                                                             "password": "alllowercase-long"}))
    assert error_code(weak) == (400, "invalid_password")
    malformed = stack.invoke(CONSOLE, console_event("console_sign_up.json", body={"email": "not-an-email",
                                                                                  "password": PASSWORD}))
    assert malformed["statusCode"] == 400


def test_a_wrong_password_and_an_unknown_email_get_one_answer(stack: Stack) -> None:
    person = signed_in(stack)
    assert error_code(sign_in(stack, person.email, PASSWORD + "x")) == (401, "invalid_credentials")
    assert error_code(sign_in(stack, new_email())) == (401, "invalid_credentials")


def test_sign_out_ends_the_session_and_clears_the_cookie(stack: Stack) -> None:
    person = signed_in(stack)
    out = stack.invoke(CONSOLE, console_event("console_sign_out.json", secret=person.secret, csrf=person.csrf))
    assert out["statusCode"] == 204
    [cleared] = out["cookies"]
    assert cleared.startswith("__Host-retouch_session=;") and "Max-Age=0" in cleared
    assert error_code(get(stack, "/session", person.secret)) == (401, "not_signed_in")
    assert error_code(get(stack, "/v1/jobs", person.secret)) == (401, "not_signed_in")


@pytest.mark.parametrize(("csrf", "origin"), [("none", ORIGIN), ("wrong", ORIGIN), ("right", None),
                                              ("right", "https://evil.example")])
def test_unsafe_requests_without_the_token_or_from_another_origin_are_refused(csrf: str, origin: str | None,
                                                                             stack: Stack) -> None:
    person = signed_in(stack)
    token = {"none": None, "wrong": "x" * 43, "right": person.csrf}[csrf]

    invited = post(stack, "/members", {"email": new_email()}, person.secret, token, origin=origin)
    out = stack.invoke(CONSOLE, console_event("console_sign_out.json", secret=person.secret, csrf=token,
                                              origin=origin))
    job = post(stack, "/v1/images/generations", {"model": "gpt-image-2", "prompt": "a cat"}, person.secret, token,
               origin=origin)

    for response in (invited, out, job):
        assert error_code(response) == (403, "csrf_failed")
    assert json_body(get(stack, "/members", person.secret))["invitations"] == []
    assert get(stack, "/session", person.secret)["statusCode"] == 200  # not signed out
    assert stack.jobs_of(person.account_id) == []


def test_a_console_only_route_refuses_an_api_key_with_403(stack: Stack) -> None:
    # Given the console's app reached with an API key's caller (as if mounted behind the key authorizer; the console
    # function itself never reads a key: tests/integration/core/test_route_auth.py)
    app = sys.modules[stack.handler(CONSOLE).__module__].app
    event = http_event("list_models.json", account_id=stack.seed_account(new_account_id()))
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/session"

    response = app.resolve(event, None)

    assert error_code(response) == (403, "console_session_required")


def test_the_mounted_api_serves_the_persons_account_and_no_other(stack: Stack) -> None:
    # Given a person with credit, and another account's job made with its API key
    with stack.cold_started_with(CONSOLE, {"RETOUCH_SIGN_UP_CREDIT_USD": "5"}):
        person = signed_in(stack)
        other = stack.invoke("ApiFunction", http_event("generation.json", account_id=stack.seed_account(
            new_account_id())))
        assert other["statusCode"] == 202, other
        others_job = json_body(other)["id"]

        # When the person makes a job through the console, and reads the jobs
        made = post(stack, "/v1/images/generations", {"model": "gpt-image-2", "prompt": "a lighthouse"},
                    person.secret, person.csrf)
        listed = json_body(get(stack, "/v1/jobs", person.secret))["data"]
        foreign = get(stack, f"/v1/jobs/{others_job}", person.secret)

    # Then the job is theirs, listed alone, and the other account's is not found
    assert made["statusCode"] == 202, made
    assert [job["id"] for job in listed] == [json_body(made)["id"]]
    assert [item["account_id"]["S"] for item in stack.jobs_of(person.account_id)] == [person.account_id]
    assert error_code(foreign)[0] == 404


def test_the_sign_up_credit_is_the_new_accounts_balance(stack: Stack) -> None:
    with stack.cold_started_with(CONSOLE, {"RETOUCH_SIGN_UP_CREDIT_USD": "2.50"}):
        person = signed_in(stack)
        account = json_body(get(stack, "/v1/account", person.secret))
        ledger = json_body(get(stack, "/v1/usage/ledger", person.secret))["data"]
    assert account["balance_micros"] == 2_500_000
    assert [(entry["kind"], entry["amount_micros"]) for entry in ledger] == [("credit", 2_500_000)]
    assert stack.jobs_of(person.account_id) == []


def test_an_invited_person_joins_the_owners_account_and_leaves_it_when_removed(stack: Stack) -> None:
    # Given an owner who invites an e-mail
    owner = signed_in(stack)
    email = new_email()
    invited = post(stack, "/members", {"email": email}, owner.secret, owner.csrf)
    assert invited["statusCode"] == 202 and json_body(invited)["email"] == email

    # When that person signs up and verifies
    member = signed_in(stack, email)

    # Then they are in the owner's account, listed with the owner, the invitation taken
    assert member.account_id == owner.account_id
    people = json_body(get(stack, "/members", member.secret))
    assert [(m["email"], m["account_role"]) for m in people["data"]] == [(owner.email, "owner"), (email, "member")]
    assert people["invitations"] == []
    # and a member cannot invite or remove; the owner cannot be removed
    assert error_code(post(stack, "/members", {"email": new_email()}, member.secret, member.csrf)) == (
        409, "member_conflict")
    assert error_code(post(stack, f"/members/{owner.user_id}", None, owner.secret, owner.csrf,
                           method="DELETE")) == (409, "member_conflict")

    # When the owner removes them
    removed = post(stack, f"/members/{member.user_id}", None, owner.secret, owner.csrf, method="DELETE")

    # Then their session ends at once
    assert removed["statusCode"] == 200 and json_body(removed)["id"] == member.user_id
    assert error_code(get(stack, "/session", member.secret)) == (401, "not_signed_in")
    assert error_code(post(stack, f"/members/{member.user_id}", None, owner.secret, owner.csrf,
                           method="DELETE")) == (404, "member_not_found")


def test_auth_attempts_are_limited_per_address_and_per_email(stack: Stack) -> None:
    email = new_email()  # guessed at from many addresses
    with stack.cold_started_with(CONSOLE, {"RETOUCH_AUTH_ATTEMPTS_PER_ADDRESS": "2",
                                           "RETOUCH_AUTH_ATTEMPTS_PER_EMAIL": "3"}):
        def attempt(email: str, address: str) -> dict[str, Any]:
            return stack.invoke(CONSOLE, console_event("console_sign_in.json", source_ip=address,
                                                       body={"email": email, "password": "Wrong-password-1"}))

        by_address = [attempt(new_email(), "198.51.100.7")["statusCode"] for _ in range(3)]
        by_email = [attempt(email, f"198.51.100.{20 + i}")["statusCode"] for i in range(4)]
        refused = attempt(email, "198.51.100.99")

    assert by_address == [401, 401, 429]
    assert by_email == [401, 401, 401, 429]
    assert error_code(refused) == (429, "auth_rate_limit_exceeded") and int(refused["headers"]["Retry-After"]) <= 60


def test_retouch_admin_makes_an_operator_from_their_next_sign_in(stack: Stack, capsys: pytest.CaptureFixture[str]
                                                                 ) -> None:
    person = signed_in(stack)
    pool = stack.environments[CONSOLE]["RETOUCH_USER_POOL_ID"]

    assert admin(["--table", stack.table, "console", "add-operator", person.email, "--user-pool-id", pool]) == 0
    assert json_body(get(stack, "/session", person.secret))["user"]["role"] == "member"  # this session as it was
    assert json_body(sign_in(stack, person.email))["user"]["role"] == "operator"
    with pytest.raises(SystemExit, match="nobody has signed up"):
        admin(["--table", stack.table, "console", "add-operator", new_email(), "--user-pool-id", pool])
    assert "is an operator" in capsys.readouterr().out
