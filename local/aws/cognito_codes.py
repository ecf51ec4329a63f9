"""What Cognito does at sign-up and moto does not: make a 6-digit code, e-mail it, and check it.

moto's SignUp makes an unconfirmed user and sends nothing; its ConfirmSignUp confirms whatever code it is given, and
it has no ResendConfirmationCode. Patched here, as Cognito behaves with a user pool that verifies e-mail by code:

    SignUp                   a random 6-digit code, valid 24 h, e-mailed with the pool's VerificationMessageTemplate
                             (into moto's SES sent messages: local.aws.email_capture serves them)
    ConfirmSignUp            CodeMismatchException for another code, ExpiredCodeException past 24 h,
                             NotAuthorizedException for a user confirmed already, UserNotFoundException for none
    ResendConfirmationCode   a new code (the old one stops working), e-mailed; InvalidParameterException when confirmed
    AdminDeleteUser          the user's code forgotten with them (a pending sign-up replaced: console/sign_up.py)

Written against moto 5.2.6 (local.aws.MOTO_VERSION): wraps CognitoIdpBackend.sign_up and admin_delete_user and adds
two actions to CognitoIdpResponse, whose dispatch finds an action's method by its snake-case name.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from typing import Any

CODE_SECONDS = 24 * 3600
SENDER = "no-reply@verificationemail.com"  # Cognito's own sender when a pool sends through it (COGNITO_DEFAULT)
_DEFAULT_SUBJECT = "Your verification code"
_DEFAULT_MESSAGE = "Your confirmation code is {####}"

_codes: dict[tuple[str, str], tuple[str, float]] = {}  # (pool id, user id) -> (code, valid until)
_lock = threading.Lock()


def _new_code(backend: Any, pool: Any, user: Any) -> None:
    from moto.ses.models import Message, ses_backends

    code = f"{secrets.randbelow(1_000_000):06d}"
    with _lock:
        _codes[(pool.id, user.id)] = (code, time.time() + CODE_SECONDS)
    template = pool.extended_config.get("VerificationMessageTemplate") or {}
    subject = template.get("EmailSubject") or _DEFAULT_SUBJECT
    body = (template.get("EmailMessage") or _DEFAULT_MESSAGE).replace("{####}", code)
    email = user.attribute_lookup.get("email", user.username)
    ses = ses_backends[backend.account_id][backend.region_name]
    ses.sent_messages.append(Message(str(uuid.uuid4()), SENDER, subject, body, {"ToAddresses": [email]}))
    ses.sent_message_count += 1


def _pool_and_user(response: Any) -> tuple[Any, Any, Any]:
    from moto.cognitoidp.exceptions import ResourceNotFoundError

    client_id = response._get_param("ClientId")
    backend = response._get_region_agnostic_backend()._find_backend_for_clientid(client_id)
    pool = next((p for p in backend.user_pools.values() if client_id in p.clients), None)
    if pool is None:
        raise ResourceNotFoundError(client_id)
    return backend, pool, backend.admin_get_user(pool.id, response._get_param("Username"))  # UserNotFoundException


def install() -> None:
    from moto.cognitoidp.exceptions import (
        CodeMismatchException,
        ExpiredCodeException,
        InvalidParameterException,
        NotAuthorizedError,
    )
    from moto.cognitoidp.models import CognitoIdpBackend, UserStatus
    from moto.cognitoidp.responses import CognitoIdpResponse
    from moto.core.responses import ActionResult, EmptyResult

    original_sign_up = CognitoIdpBackend.sign_up

    def sign_up(self: Any, client_id: str, username: str, password: str, attributes: list[dict[str, str]]) -> Any:
        user, details = original_sign_up(self, client_id, username, password, attributes)
        pool = next(p for p in self.user_pools.values() if client_id in p.clients)
        _new_code(self, pool, user)
        return user, details

    def confirm_sign_up(self: Any) -> Any:
        backend, pool, user = _pool_and_user(self)
        if user.status is not UserStatus.UNCONFIRMED:
            raise NotAuthorizedError(f"User cannot be confirmed. Current status is {user.status.value}")
        with _lock:
            code, valid_until = _codes.get((pool.id, user.id), ("", 0.0))
            if not secrets.compare_digest(code, str(self._get_param("ConfirmationCode") or "")):
                raise CodeMismatchException("Invalid verification code provided, please try again.")
            if valid_until <= time.time():
                raise ExpiredCodeException("Invalid code provided, please request a code again.")
            del _codes[(pool.id, user.id)]
        backend.confirm_sign_up(self._get_param("ClientId"), self._get_param("Username"))
        return EmptyResult()

    def resend_confirmation_code(self: Any) -> Any:
        backend, pool, user = _pool_and_user(self)
        if user.status is not UserStatus.UNCONFIRMED:
            raise InvalidParameterException("User is already confirmed.")
        _new_code(backend, pool, user)
        email = user.attribute_lookup.get("email", "")
        return ActionResult({"CodeDeliveryDetails": {"Destination": email, "DeliveryMedium": "EMAIL",
                                                     "AttributeName": "email"}})

    original_admin_delete_user = CognitoIdpBackend.admin_delete_user

    def admin_delete_user(self: Any, user_pool_id: str, username: str) -> None:
        user = self.admin_get_user(user_pool_id, username)
        original_admin_delete_user(self, user_pool_id, username)
        with _lock:
            _codes.pop((user_pool_id, user.id), None)

    CognitoIdpBackend.sign_up = sign_up  # type: ignore[method-assign]
    CognitoIdpBackend.admin_delete_user = admin_delete_user  # type: ignore[method-assign]
    CognitoIdpResponse.confirm_sign_up = confirm_sign_up  # type: ignore[method-assign]
    CognitoIdpResponse.resend_confirmation_code = resend_confirmation_code  # type: ignore[attr-defined]
