"""The console's sign-up, verification, sign-in and sign-out (console/sign_up.py, console/sessions.py), served by the
console function under /console/api. Sign-up, verify, resend and sign-in need no session (CONSOLE_PUBLIC_ROUTES);
each is limited per client address and, where it names one, per e-mail (console/limits.py)."""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from retouch.auth.standing import AccountReader
from retouch.console.limits import AttemptLimits, count_attempt
from retouch.console.ports import Identity
from retouch.console.sessions import ABSOLUTE_SECONDS, SessionDeps, end_session, start_session
from retouch.console.sign_up import SignUpDeps, normalized_email, resend_code, sign_in, sign_up, verify
from retouch.models.common import now_epoch
from retouch.models.console import MemberRecord
from retouch.models.console_views import (
    EmailRequest,
    ResendView,
    SessionView,
    SignInRequest,
    SignUpRequest,
    SignUpView,
    VerifyRequest,
)
from retouch.models.responses import ErrorBody
from retouch.web.console_cookies import SESSION_COOKIE, session_secret
from retouch.web.principal import current_console_user
from retouch.web.request_parsing import SMALL_JSON_BODY_BYTES, parse_json_body
from retouch.web.responses import documented, json_response
from retouch.web.route_groups import RouteGroup

RATE_LIMITED = documented(ErrorBody, "`auth_rate_limit_exceeded`: too many attempts from this address or for this "
                                     "e-mail this minute; see Retry-After")


@dataclass(frozen=True)
class ConsoleAuthRoutes:
    sign_up: SignUpDeps
    sessions: SessionDeps
    limits: AttemptLimits
    accounts: AccountReader  # the session view names the account


routes = RouteGroup(Router(), ConsoleAuthRoutes)
router = routes.router


def _client_address() -> str:
    return routes.event().request_context.http.source_ip


@router.post("/auth/sign_up", summary="Sign up for the console", responses={
    202: documented(SignUpView, "A 6-digit code was e-mailed to the address; POST it to /auth/verify"),
    400: documented(ErrorBody, "`invalid_password` (the pool's policy) or an invalid e-mail"),
    409: documented(ErrorBody, "`email_taken`: the e-mail is verified (an unverified sign-up is replaced by this one)"),
    429: RATE_LIMITED,
})
def post_sign_up() -> Response[SignUpView]:
    deps = routes.deps()
    request = parse_json_body(routes.event().raw_event, SMALL_JSON_BODY_BYTES, SignUpRequest)
    count_attempt(deps.limits, address=_client_address(), email=None, now=now_epoch())
    sign_up(deps.sign_up, request.email, request.password, request.account_name)
    return json_response(SignUpView(email=normalized_email(request.email)), status=202)


@router.post("/auth/verify", summary="Verify the e-mail (its code, the sign-up password): signed in", responses={
    200: documented(SessionView, "Verified, the account made (or the inviting account joined), and signed in: the "
                                 "session cookie and CSRF token, as /auth/sign_in answers"),
    400: documented(ErrorBody, "`invalid_code`: wrong, expired or used"),
    401: documented(ErrorBody, "`invalid_credentials`: not the password chosen at sign-up; nothing verified"),
    429: RATE_LIMITED,
})
def post_verify() -> Response[SessionView]:
    deps = routes.deps()
    request = parse_json_body(routes.event().raw_event, SMALL_JSON_BODY_BYTES, VerifyRequest)
    now = now_epoch()
    count_attempt(deps.limits, address=_client_address(), email=normalized_email(request.email), now=now)
    identity, member = verify(deps.sign_up, request.email, request.code, request.password, now)
    return _signed_in(deps, identity, member, now)


@router.post("/auth/resend", summary="E-mail a new verification code", responses={
    202: documented(ResendView, "Sent, if the e-mail is signed up and not verified yet (the answer does not say)"),
    429: RATE_LIMITED,
})
def post_resend() -> Response[ResendView]:
    deps = routes.deps()
    request = parse_json_body(routes.event().raw_event, SMALL_JSON_BODY_BYTES, EmailRequest)
    count_attempt(deps.limits, address=_client_address(), email=normalized_email(request.email), now=now_epoch())
    resend_code(deps.sign_up, request.email)
    return json_response(ResendView(), status=202)


@router.post("/auth/sign_in", summary="Sign in: a session cookie", responses={
    200: documented(SessionView, "Signed in: `Set-Cookie: __Host-retouch_session=…; HttpOnly; Secure; "
                                 "SameSite=Strict; Path=/`, and the session's CSRF token"),
    401: documented(ErrorBody, "`invalid_credentials`"),
    403: documented(ErrorBody, "`email_not_verified`"),
    429: RATE_LIMITED,
})
def post_sign_in() -> Response[SessionView]:
    deps = routes.deps()
    request = parse_json_body(routes.event().raw_event, SMALL_JSON_BODY_BYTES, SignInRequest)
    now = now_epoch()
    count_attempt(deps.limits, address=_client_address(), email=normalized_email(request.email), now=now)
    identity, member = sign_in(deps.sign_up, request.email, request.password, now)
    return _signed_in(deps, identity, member, now)


@router.post("/auth/sign_out", summary="Sign out: the session ended, its cookie cleared", responses={
    204: {"description": "Signed out"},
    401: documented(ErrorBody, "`not_signed_in`"),
    403: documented(ErrorBody, "`csrf_failed`"),
})
def post_sign_out() -> Response[None]:
    current_console_user()  # a signed-in person (RequireCaller answered 401 to anyone else)
    end_session(routes.deps().sessions, session_secret(routes.event().cookies or []))
    return Response(status_code=204, body=None, cookies=[_cookie("", 0)])


def _signed_in(deps: ConsoleAuthRoutes, identity: Identity, member: MemberRecord, now: int) -> Response[SessionView]:
    """A new session for the person: its view, and its secret in the session cookie."""
    started = start_session(deps.sessions, identity, member, now)
    account = deps.accounts.get_account(member.account_id)
    response = json_response(SessionView.of(started.record, account.name if account else ""))
    response.cookies.append(_cookie(started.secret, ABSOLUTE_SECONDS))
    return response


def _cookie(value: str, max_age: int) -> Cookie:
    """`__Host-`: Secure, Path=/ and no Domain, so no other host (or path) can set or read it."""
    return Cookie(name=SESSION_COOKIE, value=value, path="/", secure=True, http_only=True, max_age=max_age,
                  same_site=SameSite.STRICT_MODE)
