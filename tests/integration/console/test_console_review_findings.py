"""Findings of the console's review (issue #21): each test failed before its fix."""

from __future__ import annotations

from tests.integration.console.console_requests import CONSOLE, console_event, new_address, signed_in
from tests.integration.core.aws_stack import Stack


def test_resending_a_code_to_a_verified_email_answers_as_for_any_other(stack: Stack) -> None:
    """Cognito refuses a resend for a confirmed user (InvalidParameterException); the route's answer must not change
    (a 500 for a verified address both breaks the promise of one answer and tells who has an account)."""
    person = signed_in(stack)
    response = stack.invoke(CONSOLE, console_event("console_verify.json", path="/auth/resend",
                                                   body={"email": person.email}, source_ip=new_address()))
    assert response["statusCode"] == 202, response
