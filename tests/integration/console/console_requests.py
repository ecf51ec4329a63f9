"""Console requests as API Gateway hands them to the console function (events/console_*.json), and a person signed up,
verified (the code read from moto's SES, where the patched Cognito e-mails it) and signed in."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from local.aws.email_capture import code_in, sent_emails
from tests.builders import load_event
from tests.integration.core.aws_stack import Stack, json_body

CONSOLE = "ConsoleFunction"
PASSWORD = "Correct-Horse-42"
ORIGIN = "https://d111111abcdef8.cloudfront.net"  # the samples' host: the console's own origin


def new_email() -> str:
    return f"person-{uuid.uuid4().hex[:12]}@example.com"


def console_event(sample: str, *, path: str | None = None, method: str | None = None, body: Any = None,
                  secret: str | None = None, csrf: str | None = None, origin: str | None = ORIGIN,
                  source_ip: str | None = None) -> dict[str, Any]:
    """events/<sample> with its path, method, body, session cookie, CSRF token and Origin replaced (None: removed)."""
    event = load_event(sample)
    http = event["requestContext"]["http"]
    if path is not None:
        event["rawPath"] = http["path"] = f"/console/api{path}"
        event["pathParameters"] = {"proxy": path.lstrip("/")}
        event["rawQueryString"] = ""
    if method is not None:
        http["method"] = method
    if source_ip is not None:
        http["sourceIp"] = source_ip
    if body is not None:
        event["body"] = json.dumps(body)
        event["headers"]["content-type"] = "application/json"
    event.pop("cookies", None)
    if secret is not None:
        event["cookies"] = [f"__Host-retouch_session={secret}"]
    event["headers"].pop("x-csrf-token", None)
    if csrf is not None:
        event["headers"]["x-csrf-token"] = csrf
    event["headers"].pop("origin", None)
    if origin is not None and http["method"] not in ("GET", "HEAD"):
        event["headers"]["origin"] = origin
    return event


@dataclass(frozen=True)
class SignedIn:
    email: str
    secret: str  # the session cookie's value
    csrf: str
    user_id: str
    account_id: str


def session_secret(response: dict[str, Any]) -> str:
    [cookie] = [c for c in response.get("cookies", []) if c.startswith("__Host-retouch_session=")]
    return cookie.split(";", 1)[0].split("=", 1)[1]


def new_address() -> str:
    """A client address of its own (each test's people are different clients, under the per-address limit)."""
    number = uuid.uuid4().int
    return f"10.{number % 256}.{(number >> 8) % 256}.{(number >> 16) % 256}"


def sign_up(stack: Stack, email: str, address: str | None = None, password: str = PASSWORD, **fields: Any
            ) -> dict[str, Any]:
    return stack.invoke(CONSOLE, console_event("console_sign_up.json", body={"email": email, "password": password,
                                                                               **fields},
                                               source_ip=address or new_address()))


def latest_code(email: str) -> str:
    return code_in(sent_emails(email)[-1])


def verify(stack: Stack, email: str, code: str, password: str = PASSWORD, address: str | None = None
           ) -> dict[str, Any]:
    """The code and the password chosen at sign-up: verified, and signed in."""
    return stack.invoke(CONSOLE, console_event("console_verify.json",
                                               body={"email": email, "code": code, "password": password},
                                               source_ip=address or new_address()))


def sign_in(stack: Stack, email: str, password: str = PASSWORD, address: str | None = None) -> dict[str, Any]:
    return stack.invoke(CONSOLE, console_event("console_sign_in.json", body={"email": email, "password": password},
                                               source_ip=address or new_address()))


def signed_in(stack: Stack, email: str | None = None) -> SignedIn:
    """A new person, signed up and verified with the e-mailed code (which signs them in)."""
    email = email or new_email()
    assert sign_up(stack, email)["statusCode"] == 202
    response = verify(stack, email, latest_code(email))
    assert response["statusCode"] == 200, response
    view = json_body(response)
    return SignedIn(email=email, secret=session_secret(response), csrf=view["csrf_token"], user_id=view["user"]["id"],
                    account_id=view["account"]["id"])
