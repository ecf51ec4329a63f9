"""The console function's gate: what stands where the HTTP API's authorizer stands for the public API.

API Gateway hands every `/console/api/...` request to the console function (`ANY /console/api/{proxy+}`, no
authorizer). The gate strips the prefix, resolves the session from its cookie (console/sessions.py) and puts its
person in the authorizer context (`with_principal`), so the app's own RequireCaller refuses a request without a live
session (401 `not_signed_in`) and every mounted public route reads its caller as it reads a key's. The session is
bound for the span of the request, for the CSRF check (RequireCsrf, inside RequireCaller) and GET /session.
An Authorization header is never read here: the console takes no API keys.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import BaseMiddlewareHandler, NextMiddleware
from aws_lambda_powertools.utilities.typing import LambdaContext

from retouch.auth.authorize import Principal
from retouch.console.csrf import csrf_refusal
from retouch.console.sessions import SessionDeps, resolve_session
from retouch.errors import CsrfFailed, NotSignedIn
from retouch.models.common import now_epoch
from retouch.models.console import ConsoleSessionRecord
from retouch.models.responses import ErrorBody, ErrorDetail
from retouch.web.console_cookies import session_secret
from retouch.web.principal import with_principal

CONSOLE_PREFIX = "/console/api"

# (method, path as the console's routes declare it, without the prefix): what the console answers without a session.
CONSOLE_PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset({
    ("POST", "/auth/sign_up"),
    ("POST", "/auth/verify"),
    ("POST", "/auth/resend"),
    ("POST", "/auth/sign_in"),
})

_session: ContextVar[ConsoleSessionRecord | None] = ContextVar("retouch_console_session", default=None)


def not_signed_in() -> NotSignedIn:
    return NotSignedIn("Sign in to the console: this request carries no live session.")


def current_session() -> ConsoleSessionRecord:
    """The session of the console request being resolved (a private console route's: RequireCaller made sure)."""
    session = _session.get()
    if session is None:
        raise not_signed_in()
    return session


@dataclass(frozen=True)
class ConsoleGate:
    app: APIGatewayHttpResolver
    sessions: SessionDeps

    def handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        path = str(event.get("rawPath") or "")
        if not path.startswith(CONSOLE_PREFIX + "/"):  # never from API Gateway, whose route is the prefix's
            return _outside_the_console
        session = resolve_session(self.sessions, session_secret(event.get("cookies") or []), now_epoch())
        principal = (Principal(account_id=session.account_id, key_id="", console_user=session.user_sub,
                               console_role=session.role) if session else None)
        with _serving(session):
            return self.app.resolve(without_prefix(with_principal(event, principal)), context)


_outside_the_console: dict[str, Any] = {
    "statusCode": 404, "headers": {"Content-Type": "application/json"}, "isBase64Encoded": False,
    "body": ErrorBody(error=ErrorDetail(message="Unknown route.", type="invalid_request_error", param=None,
                                        code="not_found")).model_dump_json()}


def without_prefix(event: dict[str, Any]) -> dict[str, Any]:
    """The request as the console's routes see it: `/console/api/v1/jobs` is `/v1/jobs`."""
    inner = str(event["rawPath"])[len(CONSOLE_PREFIX):]
    http = {**event.get("requestContext", {}).get("http", {}), "path": inner}
    return {**event, "rawPath": inner, "requestContext": {**event.get("requestContext", {}), "http": http}}


@contextmanager
def _serving(session: ConsoleSessionRecord | None) -> Iterator[None]:
    token = _session.set(session)
    try:
        yield
    finally:
        _session.reset(token)


class RequireCsrf(BaseMiddlewareHandler[APIGatewayHttpResolver]):
    """403 `csrf_failed` for an unsafe request without the session's token or from another origin (console/csrf.py).
    `origin`: the console's own; None, the request's own scheme and Host (the console and its API on one origin)."""

    def __init__(self, origin: str | None) -> None:
        super().__init__()
        self._origin = origin

    def handler(self, app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
        event = app.current_event
        headers = {name.lower(): value for name, value in (event.headers or {}).items()}
        own = self._origin or _request_origin(headers)
        refusal = csrf_refusal(event.request_context.http.method, headers, _session.get(), own)
        if refusal is not None:
            raise CsrfFailed(refusal)
        return next_middleware(app)


def _request_origin(headers: dict[str, str]) -> str:
    """The origin the request was sent to: its Host, over https unless the Host is loopback (`make run`)."""
    host = headers.get("host", "")
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    scheme = "http" if name in ("127.0.0.1", "localhost", "[::1]") else "https"
    return f"{scheme}://{host}"
