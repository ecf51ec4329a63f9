"""The operator's side of the console's user pool (retouch-admin console, the local stack's seeding): people made
verified with a password, and the operators group. Apart from console_identity.py so the console function, which
never does either, loads no code (and holds no permission) for it."""

from __future__ import annotations

from typing import Any

from retouch.console.ports import IdentityRefused
from retouch.data.clients import aws_client
from retouch.data.console_identity import OPERATORS_GROUP, refusals


class CognitoOperators:
    def __init__(self, user_pool_id: str, client: Any | None = None) -> None:
        self._pool = user_pool_id
        self._client = client or aws_client("cognito-idp")

    def create_verified(self, email: str, password: str) -> None:
        try:
            with refusals():
                self._client.admin_create_user(
                    UserPoolId=self._pool, Username=email, MessageAction="SUPPRESS",
                    UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}])
        except IdentityRefused as refused:
            if refused.reason != "email_taken":
                raise
        with refusals():
            self._client.admin_set_user_password(UserPoolId=self._pool, Username=email, Password=password,
                                                 Permanent=True)

    def add_operator(self, email: str) -> None:
        try:
            with refusals():
                self._client.admin_add_user_to_group(UserPoolId=self._pool, Username=email, GroupName=OPERATORS_GROUP)
        except IdentityRefused as refused:
            if refused.reason == "unknown_email":
                raise LookupError(f"nobody has signed up with {email}") from refused
            raise
