"""Who is calling, checked in one place: every route is private unless it is in PUBLIC_ROUTES.

The authorizer lets unknown keys through with no account (so the API, not API Gateway, answers OpenAI's 401), and the
sync function's URL has no authorizer at all; so the app's RequireCaller middleware refuses a private route's request
without an account before the route runs, and hands the route its caller through `current_caller()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Route
from aws_lambda_powertools.event_handler.middlewares import BaseMiddlewareHandler, NextMiddleware
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from retouch.auth.authorize import Principal, authorizer_response
from retouch.errors import ClientTokenForbidden, ConsoleSessionRequired, OperatorOnly, RetouchError, Unauthenticated
from retouch.models.common import now_epoch
from retouch.web.client_token_scopes import DEVICE_ROUTES

# (method, path as declared in template.yaml): the routes anyone may call, the ones the template gives
# `Auth: Authorizer: NONE`. A route not listed here needs a key, whichever function serves it.
PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset({
    ("GET", "/health"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/swagger-ui-bundle.min.js"),
    ("GET", "/docs/swagger-ui.min.css"),
    # Upstreams' callbacks: authenticated by the upstream's own signature (jobs/upstream_callbacks.py), not a key.
    ("POST", "/v1/upstream-callbacks/{upstream}/{job_id}"),
    # Stripe calls it: no key, but every request's Stripe-Signature is verified (payments/stripe_events.py).
    ("POST", "/v1/billing/stripe/webhook"),
})


@dataclass(frozen=True)
class Caller:
    account_id: str
    key_id: str | None  # None when the authorizer context names no key
    # A device token's caller: the one end user it acts for and its scopes (None: the account's own key).
    end_user: str | None = None
    scopes: frozenset[str] | None = None
    valid_until: int | None = None
    # The calling key's MCP per-call ceiling (ApiKeyRecord), as the authorizer resolved it; None: the key has none.
    max_cost_per_call_micros: int | None = None
    # A console session's caller (issue #21): the signed-in person and their role ("member" or "operator").
    console_user: str | None = None
    console_role: str | None = None

    @property
    def is_device(self) -> bool:
        return self.scopes is not None

    @property
    def is_operator(self) -> bool:
        return self.console_user is not None and self.console_role == "operator"


# Set by RequireCaller for exactly the span of one private route's call. Not the resolver's `context`: a router
# included in two apps (a function's and the OpenAPI document's) reads the context of whichever included it last.
_caller: ContextVar[Caller | None] = ContextVar("retouch_caller", default=None)


def current_caller() -> Caller:
    """The account (and key) calling the running private route."""
    caller = _caller.get()
    if caller is None:
        raise RuntimeError("no caller: current_caller() outside a private route (is it in PUBLIC_ROUTES, "
                           "or was the app not built by create_app?)")
    return caller


def current_console_user() -> Caller:
    """The caller of a console-only route: a person signed in to the console (not an API key, not a device token)."""
    caller = current_caller()
    if caller.console_user is None:
        raise ConsoleSessionRequired("This route is for the console: sign in to the console to use it.")
    return caller


def current_operator() -> Caller:
    """The caller of an operator route: a console user with the operator role."""
    caller = current_console_user()
    if not caller.is_operator:
        raise OperatorOnly("Only the deployment's operators may use this route.")
    return caller


def caller_if_any() -> Caller | None:
    """The caller of the running private route; None for a public or unknown route."""
    return _caller.get()


def route_key(route: Route) -> tuple[str, str]:
    """A route as template.yaml spells it: `GET /v1/jobs/{job_id}`."""
    return route.method.upper(), route.openapi_path


class RequireCaller(BaseMiddlewareHandler[APIGatewayHttpResolver]):
    """401 (OpenAI's body, from the one error map) for a private route's request that carries no account.
    `public`: the routes it lets through without one (the console's app has its own list); `refusal`: the 401's
    error (None: OpenAI's invalid_api_key; the console's says "sign in", not "send a key")."""

    def __init__(self, public: frozenset[tuple[str, str]] = PUBLIC_ROUTES,
                 refusal: Callable[[], RetouchError] | None = None) -> None:
        super().__init__()
        self._public = public
        self._refusal = refusal

    def handler(self, app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
        # Powertools puts the matched route in the context; an unmatched request gets a stand-in route, not one of
        # the app's, and answers its 404 with or without a key.
        route: Route = app.context["_route"]
        if route_key(route) in self._public or not any(route is known for known in registered_routes(app)):
            return next_middleware(app)
        caller = _caller_in(app.current_event, self._refusal)
        if caller.is_device:
            _check_device_route(caller, route_key(route))
        with _calling(caller):
            return next_middleware(app)


def _check_device_route(caller: Caller, route: tuple[str, str]) -> None:
    """A device token past its expiry is refused even when the authorizer's cached answer lets it through; one asking
    for a route outside its scopes (every account route) is 403."""
    if caller.valid_until is not None and caller.valid_until <= now_epoch():
        raise Unauthenticated("This device token has expired; ask the app's backend for a new one.",
                              code="client_token_expired")
    scope = DEVICE_ROUTES.get(route)
    if scope is None or scope not in (caller.scopes or frozenset()):
        needed = f"the '{scope}' scope" if scope else "the account's own API key"
        raise ClientTokenForbidden(f"A device token cannot call {route[0]} {route[1]}: it needs {needed}.")


def registered_routes(app: APIGatewayHttpResolver) -> list[Route]:
    """Every route the app answers, read when asked, so a route added after create_app is private too
    (Powertools has no public listing)."""
    return [*app._static_routes, *app._dynamic_routes]


@contextmanager
def _calling(caller: Caller) -> Iterator[None]:
    token = _caller.set(caller)
    try:
        yield
    finally:
        _caller.reset(token)


def _caller_in(event: APIGatewayProxyEventV2, refusal: Callable[[], RetouchError] | None = None) -> Caller:
    context = event.request_context.authorizer.get_lambda or {}
    account_id = context.get("account_id")
    if not account_id:
        raise refusal() if refusal else Unauthenticated(
            "Incorrect API key provided. Send 'Authorization: Bearer <key>'.")
    key_id = str(context["key_id"]) if context.get("key_id") else None
    if context.get("console_user"):
        return Caller(account_id=str(account_id), key_id=key_id, console_user=str(context["console_user"]),
                      console_role=str(context.get("console_role") or "member"))
    if context.get("scopes") is None:
        ceiling = context.get("max_cost_per_call_micros")
        return Caller(account_id=str(account_id), key_id=key_id,
                      max_cost_per_call_micros=int(ceiling) if ceiling is not None else None)
    valid_until = context.get("valid_until")
    return Caller(account_id=str(account_id), key_id=key_id, end_user=str(context.get("end_user") or ""),
                  scopes=frozenset(str(context["scopes"]).split()),
                  valid_until=int(valid_until) if valid_until is not None else 0)


def with_principal(event: dict[str, Any], principal: Principal | None) -> dict[str, Any]:
    """The event as the HTTP API's authorizer would have passed it, for entries without one (the Function URL):
    whatever context the request carried is replaced, so a caller cannot name its own account."""
    context = {**event.get("requestContext", {}), "authorizer": {"lambda": authorizer_response(principal)["context"]}}
    return {**event, "requestContext": context}
