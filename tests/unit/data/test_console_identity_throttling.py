"""Cognito's own limits (too many codes tried or sent, too many requests) are a 429 for the person, not a 500: Cognito
answers LimitExceededException ("Attempt limit exceeded"), TooManyFailedAttemptsException or TooManyRequestsException,
and the console's answer must say "wait", as its own per-address and per-e-mail limits do."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from retouch.console.sign_up import SignUpDeps, resend_code, sign_in, sign_up, verify
from retouch.data.console_identity import CognitoIdentity
from retouch.errors import AuthRateLimited
from tests.fakes.console import FakePeople

COGNITO_LIMITS = ["LimitExceededException", "TooManyFailedAttemptsException", "TooManyRequestsException"]


class RefusingCognito:
    """A cognito-idp client whose every call is refused with `code`."""

    def __init__(self, code: str) -> None:
        self.code = code

    def __getattr__(self, operation: str) -> Any:
        def refuse(**_request: Any) -> Any:
            raise ClientError({"Error": {"Code": self.code, "Message": "Attempt limit exceeded"}}, operation)
        return refuse


def deps(code: str) -> SignUpDeps:
    return SignUpDeps(identity=CognitoIdentity("pool", "client", RefusingCognito(code)), people=FakePeople(),
                      sign_up_credit_micros=0)


@pytest.mark.parametrize("code", COGNITO_LIMITS)
def test_cognitos_limits_are_a_429_on_sign_up_verify_and_sign_in(code: str) -> None:
    with pytest.raises(AuthRateLimited) as refused:
        sign_up(deps(code), "ada@example.com", "Correct-Horse-42", None)
    assert refused.value.status_code == 429 and refused.value.headers["Retry-After"]
    with pytest.raises(AuthRateLimited):
        verify(deps(code), "ada@example.com", "123456", "Correct-Horse-42", 0)
    with pytest.raises(AuthRateLimited):
        sign_in(deps(code), "ada@example.com", "Correct-Horse-42", 0)


@pytest.mark.parametrize("code", COGNITO_LIMITS)
def test_a_resend_cognito_limits_answers_as_any_other(code: str) -> None:
    resend_code(deps(code), "ada@example.com")  # says nothing, as for an unknown or verified e-mail
