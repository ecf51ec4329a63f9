"""The console's identity service: an Amazon Cognito user pool (ConsoleUserPool: e-mail as the username, verified by
a code Cognito e-mails, its password policy) and its app client without a secret (ConsoleUserPoolClient:
USER_PASSWORD_AUTH). Cognito holds the passwords; this adapter turns its answers into the port's vocabulary. Locally
moto stands in, taught to e-mail and check the code (local/aws/cognito_codes.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError

from retouch.console.ports import Identity, IdentityRefused
from retouch.data.clients import aws_client

OPERATORS_GROUP = "operators"  # ConsoleOperatorsGroup
ACCOUNT_NAME_ATTRIBUTE = "custom:account_name"

# Cognito's error codes -> the port's refusal reasons.
_REASONS = {
    "UsernameExistsException": "email_taken",
    "AliasExistsException": "email_taken",
    "InvalidPasswordException": "invalid_password",
    "CodeMismatchException": "invalid_code",
    "ExpiredCodeException": "invalid_code",
    "NotAuthorizedException": "invalid_credentials",
    "UserNotFoundException": "unknown_email",
    "UserNotConfirmedException": "email_not_verified",
    # Cognito's own limits: too many codes tried or sent for a user, too many requests to the pool.
    "LimitExceededException": "throttled",
    "TooManyFailedAttemptsException": "throttled",
    "TooManyRequestsException": "throttled",
}


class CognitoIdentity:
    def __init__(self, user_pool_id: str, client_id: str, client: Any | None = None) -> None:
        self._pool = user_pool_id
        self._client_id = client_id
        self._client = client or aws_client("cognito-idp")

    def sign_up(self, email: str, password: str, account_name: str | None) -> None:
        attributes = [{"Name": "email", "Value": email}]
        if account_name:
            attributes.append({"Name": ACCOUNT_NAME_ATTRIBUTE, "Value": account_name})
        with refusals():
            self._client.sign_up(ClientId=self._client_id, Username=email, Password=password,
                                 UserAttributes=attributes)

    def confirm(self, email: str, code: str) -> None:
        try:
            with refusals():
                self._client.confirm_sign_up(ClientId=self._client_id, Username=email, ConfirmationCode=code)
        except IdentityRefused as refused:
            # An unknown e-mail or one confirmed already: to the caller, a code that does not work.
            if refused.reason in ("unknown_email", "invalid_credentials"):
                raise IdentityRefused("invalid_code", refused.detail) from refused
            raise

    def resend_code(self, email: str) -> None:
        try:
            with refusals():
                self._client.resend_confirmation_code(ClientId=self._client_id, Username=email)
        except ClientError as exc:
            # Cognito's answer for a user confirmed already: a refusal like an unknown e-mail's, not an outage.
            if exc.response.get("Error", {}).get("Code") == "InvalidParameterException":
                raise IdentityRefused("already_verified", str(exc.response["Error"].get("Message", ""))) from exc
            raise

    def authenticate(self, email: str, password: str) -> Identity:
        self._initiate_auth(email, password)
        found = self.find(email)
        if found is None:  # deleted between the two calls
            raise IdentityRefused("invalid_credentials")
        return found

    def check_password(self, email: str, password: str) -> None:
        try:
            self._initiate_auth(email, password)
        except IdentityRefused as refused:
            if refused.reason == "email_not_verified":
                return  # Cognito checks the password first: a wrong one is NotAuthorizedException, even unconfirmed
            if refused.reason == "unknown_email":
                raise IdentityRefused("invalid_credentials", refused.detail) from refused
            raise

    def discard_unverified(self, email: str) -> bool:
        try:
            with refusals():
                user = self._client.admin_get_user(UserPoolId=self._pool, Username=email)
        except IdentityRefused as refused:
            if refused.reason == "unknown_email":
                return False
            raise
        if user.get("UserStatus") != "UNCONFIRMED":
            return False
        try:
            with refusals():
                self._client.admin_delete_user(UserPoolId=self._pool, Username=user["Username"])
        except IdentityRefused as refused:
            if refused.reason != "unknown_email":  # deleted by a concurrent sign-up: gone all the same
                raise
        return True

    def _initiate_auth(self, email: str, password: str) -> None:
        with refusals():
            self._client.initiate_auth(ClientId=self._client_id, AuthFlow="USER_PASSWORD_AUTH",
                                       AuthParameters={"USERNAME": email, "PASSWORD": password})

    def find(self, email: str) -> Identity | None:
        try:
            with refusals():
                user = self._client.admin_get_user(UserPoolId=self._pool, Username=email)
        except IdentityRefused as refused:
            if refused.reason == "unknown_email":
                return None
            raise
        attributes = {attribute["Name"]: attribute["Value"] for attribute in user.get("UserAttributes", [])}
        with refusals():
            groups = self._client.admin_list_groups_for_user(UserPoolId=self._pool, Username=user["Username"])
        return Identity(sub=attributes["sub"], email=attributes.get("email", email),
                        operator=any(group["GroupName"] == OPERATORS_GROUP for group in groups.get("Groups", [])),
                        account_name=attributes.get(ACCOUNT_NAME_ATTRIBUTE))


@contextmanager
def refusals() -> Iterator[None]:
    """Cognito's refusals as IdentityRefused; anything else (throttling, an outage) propagates as it is."""
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        reason = _REASONS.get(str(error.get("Code", "")))
        if reason is None:
            raise
        raise IdentityRefused(reason, str(error.get("Message", ""))) from exc
