"""Whom a request is for: OpenAI's `user` field or the `X-End-User` header (for clients that cannot set the body),
and for a device token always its own end user."""

from __future__ import annotations

from pydantic import TypeAdapter, ValidationError

from retouch.errors import EndUserMismatch, InvalidRequest
from retouch.models.end_users import END_USER_HEADER, EndUserId
from retouch.web.principal import Caller

_END_USER = TypeAdapter(EndUserId)


def end_user_param(value: str, param: str) -> str:
    """`value` as an end user id, or a 400 naming `param`."""
    try:
        return _END_USER.validate_python(value)
    except ValidationError as exc:
        raise InvalidRequest(f"Invalid '{param}': an end user id is 1-128 printable characters.",
                             param=param) from exc


def _header_end_user(value: str) -> str:
    """The X-End-User header as an end user id: printable ASCII only. Header bytes past ASCII reach the function
    decoded as Latin-1 locally and however API Gateway passes them in AWS, so "é" would be a different end user than
    the body's "é"; such ids belong in the body's `user`, which is UTF-8 JSON."""
    if not all(" " <= char <= "~" for char in value):
        raise InvalidRequest("Invalid 'X-End-User': the header carries printable ASCII only; send an end user id "
                             "with other characters in the body's 'user' field.", param="X-End-User")
    return end_user_param(value, "X-End-User")


def request_end_user(caller: Caller, headers: dict[str, str], body_user: str | None) -> str | None:
    """The request's end user (None: made for the account itself). 400 when the header and the body disagree; 403
    when a device token's request names another end user than its own."""
    header = headers.get(END_USER_HEADER)
    from_header = _header_end_user(header) if header is not None else None
    if from_header is not None and body_user is not None and from_header != body_user:
        raise InvalidRequest("'user' and the X-End-User header name different end users.", param="user",
                             code="end_user_mismatch")
    named = body_user if body_user is not None else from_header
    if caller.is_device:
        if named is not None and named != caller.end_user:
            raise EndUserMismatch("This device token acts for one end user only; leave 'user' out or name it.",
                                  param="user")
        return caller.end_user
    return named
