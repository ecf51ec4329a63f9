"""The console's sign-in over real HTTP through the local stack (API Gateway's `ANY /console/api/{proxy+}` route to the
console function, moto's Cognito taught to e-mail and check codes): sign up, read the code from the captured e-mail,
verify, sign in, use the session on the console's routes and the mounted public API, sign out. The cookie's attributes,
a wrong code, a cross-origin POST and another account's job, each refused.

The session cookie is `Secure`: httpx (like any HTTP client) does not send it back over plain http, so the tests carry
it themselves, as a browser on http://127.0.0.1 (a secure context) does."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
import pytest

from local.aws.email_capture import latest_code

pytestmark = [pytest.mark.e2e, pytest.mark.local_only]

PASSWORD = "Correct-Horse-42"
COOKIE = "__Host-retouch_session"


@dataclass(frozen=True)
class Person:
    email: str
    client: httpx.Client  # sends the session cookie, the CSRF token and the console's Origin
    account_id: str
    set_cookie: str  # the sign-in's Set-Cookie header, as sent


def console(stack, **headers: str) -> httpx.Client:
    return httpx.Client(base_url=f"{stack.base_url}/console/api", timeout=30, headers={"Origin": stack.base_url,
                                                                                          **headers})


def new_email() -> str:
    return f"e2e-{uuid.uuid4().hex[:12]}@example.com"


def sign_up_and_in(stack, email: str | None = None) -> Person:
    email = email or new_email()
    with console(stack) as anonymous:
        signed_up = anonymous.post("/auth/sign_up", json={"email": email, "password": PASSWORD})
        assert signed_up.status_code == 202, signed_up.text
        # The code and the sign-up's password: verified, and signed in (the answer is sign-in's)
        signed_in = anonymous.post("/auth/verify", json={"email": email, "password": PASSWORD,
                                                         "code": latest_code(stack.aws_endpoint_url, email)})
        assert signed_in.status_code == 200, signed_in.text
    secret = signed_in.cookies[COOKIE]
    client = console(stack, Cookie=f"{COOKIE}={secret}", **{"X-CSRF-Token": signed_in.json()["csrf_token"]})
    return Person(email=email, client=client, account_id=signed_in.json()["account"]["id"],
                  set_cookie=signed_in.headers["set-cookie"])


def test_sign_up_verify_sign_in_use_the_session_and_sign_out(stack) -> None:
    # Given a person who signed up, verified with the e-mailed code and signed in
    person = sign_up_and_in(stack)

    # Then the cookie is the session's, out of scripts' and other sites' reach, for the whole origin
    attributes = {part.strip().split("=")[0].lower() for part in person.set_cookie.split(";")[1:]}
    assert person.set_cookie.startswith(f"{COOKIE}=")
    assert {"httponly", "secure", "path", "samesite"} <= attributes
    assert "samesite=strict" in person.set_cookie.lower() and "path=/;" in person.set_cookie.lower() + ";"
    assert "domain" not in attributes

    # and the session names them, their new account and its CSRF token
    session = person.client.get("/session")
    assert session.status_code == 200, session.text
    assert session.json()["user"]["email"] == person.email and session.json()["user"]["role"] == "member"
    assert session.json()["account"]["id"] == person.account_id

    # and the mounted public API answers for their account, as /v1 answers a key
    jobs = person.client.get("/v1/jobs")
    assert jobs.status_code == 200 and jobs.json()["data"] == []
    assert person.client.get("/v1/account").json()["id"] == person.account_id

    # When they sign out
    signed_out = person.client.post("/auth/sign_out")

    # Then the cookie is cleared and the session is over
    assert signed_out.status_code == 204
    assert signed_out.headers["set-cookie"].startswith(f"{COOKIE}=;") or "max-age=0" in signed_out.headers[
        "set-cookie"].lower()
    after = person.client.get("/session")
    assert after.status_code == 401 and after.json()["error"]["code"] == "not_signed_in"


def test_a_wrong_code_or_password_is_refused_and_the_email_stays_unverified(stack) -> None:
    email = new_email()
    with console(stack) as anonymous:
        assert anonymous.post("/auth/sign_up", json={"email": email, "password": PASSWORD}).status_code == 202
        right = latest_code(stack.aws_endpoint_url, email)
        wrong = f"{(int(right) + 1) % 1_000_000:06d}"

        refused = anonymous.post("/auth/verify", json={"email": email, "code": wrong, "password": PASSWORD})
        not_theirs = anonymous.post("/auth/verify", json={"email": email, "code": right, "password": PASSWORD + "x"})
        signed_in = anonymous.post("/auth/sign_in", json={"email": email, "password": PASSWORD})

    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_code"
    assert not_theirs.status_code == 401 and not_theirs.json()["error"]["code"] == "invalid_credentials"
    assert "set-cookie" not in refused.headers and "set-cookie" not in not_theirs.headers
    assert signed_in.status_code == 403 and signed_in.json()["error"]["code"] == "email_not_verified"


def test_an_unverified_sign_up_is_replaced_by_the_mailbox_owners_and_its_password_refused(stack) -> None:
    # Given someone else's unverified sign-up of this e-mail, with their password
    email, theirs = new_email(), "Someone-Elses-9"
    with console(stack) as anonymous:
        assert anonymous.post("/auth/sign_up", json={"email": email, "password": theirs}).status_code == 202

        # When the e-mail's owner signs up with their own password and verifies with the new code
        again = anonymous.post("/auth/sign_up", json={"email": email, "password": PASSWORD})
        code = latest_code(stack.aws_endpoint_url, email)
        with_theirs = anonymous.post("/auth/verify", json={"email": email, "code": code, "password": theirs})
        verified = anonymous.post("/auth/verify", json={"email": email, "code": code, "password": PASSWORD})

        # Then the owner is signed in, and the other password signs nobody in
        taken = anonymous.post("/auth/sign_up", json={"email": email, "password": theirs})
        stolen = anonymous.post("/auth/sign_in", json={"email": email, "password": theirs})

    assert again.status_code == 202, again.text
    assert with_theirs.status_code == 401 and with_theirs.json()["error"]["code"] == "invalid_credentials"
    assert verified.status_code == 200 and verified.json()["user"]["email"] == email and verified.cookies[COOKIE]
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "email_taken"
    assert stolen.status_code == 401 and stolen.json()["error"]["code"] == "invalid_credentials"


def test_a_cross_origin_post_is_refused(stack) -> None:
    # Given a signed-in person whose browser is made to POST from another site (cookie and even the token along)
    person = sign_up_and_in(stack)

    refused = person.client.post("/members", json={"email": new_email()}, headers={"Origin": "https://evil.example"})
    no_token = person.client.post("/members", json={"email": new_email()}, headers={"X-CSRF-Token": "guessed"})

    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    assert no_token.status_code == 403 and no_token.json()["error"]["code"] == "csrf_failed"
    assert person.client.get("/members").json()["invitations"] == []


def test_another_accounts_job_is_not_visible(stack, http) -> None:
    # Given a job of the seeded account (made with its API key) and a person of a new account
    job = http.post("/v1/images/generations", json={"model": "gpt-image-2", "prompt": "a lighthouse"},
                    )
    assert job.status_code == 202, job.text
    person = sign_up_and_in(stack)

    # Then the console shows them neither the job nor it in their list
    assert person.client.get(f"/v1/jobs/{job.json()['id']}").status_code == 404
    assert person.client.get("/v1/jobs").json()["data"] == []


def test_the_seeded_operator_signs_in_with_the_operator_role_to_the_local_account(stack) -> None:
    # Given the operator `make run` seeds (its e-mail and password are on the stack, and in the banner)
    operator = stack.console_operator

    with console(stack) as anonymous:
        signed_in = anonymous.post("/auth/sign_in", json={"email": operator.email, "password": operator.password})

    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["user"]["role"] == "operator"
    assert signed_in.json()["account"]["id"] == stack.account_id
