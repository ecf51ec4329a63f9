"""A pre-registration takeover, refused (console/sign_up.py): an attacker signs up someone else's e-mail with the
attacker's password and leaves it unverified, hoping its owner verifies it (and joins an account that invited them)
and the attacker then signs in with the password they chose. The owner's own sign-up replaces the pending one, and
verifying needs the sign-up's password, so the attacker's password is refused everywhere."""

from __future__ import annotations

from typing import Any

from local.aws.email_capture import sent_emails
from tests.integration.console.console_requests import (
    CONSOLE,
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

ATTACKERS_PASSWORD = "Attackers-Pass-99"


def error_code(response: dict[str, Any]) -> tuple[int, str]:
    return response["statusCode"], json_body(response)["error"]["code"]


def test_a_pending_sign_up_by_someone_else_is_replaced_and_its_password_never_signs_in(stack: Stack) -> None:
    # Given an owner who invited the victim's e-mail, and an attacker's unverified sign-up of it with their password
    owner, victim = signed_in(stack), new_email()
    invited = stack.invoke(CONSOLE, console_event("console_invite_member.json", path="/members",
                                                  body={"email": victim}, secret=owner.secret, csrf=owner.csrf))
    assert invited["statusCode"] == 202
    assert sign_up(stack, victim, password=ATTACKERS_PASSWORD)["statusCode"] == 202

    # When the victim signs up with their own password: a new sign-up, with a new code e-mailed
    assert sign_up(stack, victim.upper())["statusCode"] == 202
    victims_code = latest_code(victim)
    assert len(sent_emails(victim)) == 2
    # the attacker's password verifies nothing, even with the code
    assert error_code(verify(stack, victim, victims_code, password=ATTACKERS_PASSWORD)) == (401,
                                                                                           "invalid_credentials")
    # and the victim verifies with theirs, and is signed in, in the inviting account
    verified = verify(stack, victim, victims_code)

    # Then the victim has a session in the owner's account, and the attacker's password signs nobody in
    assert verified["statusCode"] == 200, verified
    view = json_body(verified)
    assert (view["user"]["email"], view["account"]["id"]) == (victim, owner.account_id)
    session = stack.invoke(CONSOLE, console_event("console_get_session.json", path="/session",
                                                  secret=session_secret(verified)))
    assert json_body(session) == view
    assert error_code(sign_in(stack, victim, ATTACKERS_PASSWORD)) == (401, "invalid_credentials")
    assert sign_in(stack, victim, PASSWORD)["statusCode"] == 200
    # and the verified e-mail is taken now: nobody replaces it
    assert error_code(sign_up(stack, victim, password=ATTACKERS_PASSWORD)) == (409, "email_taken")
    assert sign_in(stack, victim, PASSWORD)["statusCode"] == 200


def test_verifying_with_a_wrong_password_confirms_nothing(stack: Stack) -> None:
    email = new_email()
    assert sign_up(stack, email)["statusCode"] == 202
    code = latest_code(email)

    refused = verify(stack, email, code, password=PASSWORD + "x")

    assert error_code(refused) == (401, "invalid_credentials") and not refused.get("cookies")
    assert error_code(sign_in(stack, email)) == (403, "email_not_verified")
    assert verify(stack, email, code)["statusCode"] == 200  # the code is still good, with the right password
