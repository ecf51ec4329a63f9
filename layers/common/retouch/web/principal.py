"""Who is calling, checked in one place: every route is private unless it is in PUBLIC_ROUTES.

The authorizer lets unknown keys through with no account (so the API, not API Gateway, answers OpenAI's 401), and the
sync function's URL has no authorizer at all; so the app's RequireCaller middleware refuses a private route's request
without an account before the route runs, and hands the route its caller through `current_caller()`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Route
from aws_lambda_powertools.event_handler.middlewares import BaseMiddlewareHandler, NextMiddleware
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from retouch.auth.authorize import Principal, authorizer_response
from retouch.errors import Unauthenticated

# (method, path as declared in template.yaml): the routes anyone may call, the ones the template gives
# `Auth: Authorizer: NONE`. A route not listed here needs a key, whichever function serves it.
PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset({
    ("GET", "/health"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/swagger-ui-bundle.min.js"),
    ("GET", "/docs/swagger-ui.min.css"),
    # Stripe calls it: no key, but every request's Stripe-Signature is verified (payments/stripe_events.py).
    ("POST", "/v1/billing/stripe/webhook"),
})


@dataclass(frozen=True)
class Caller:
    account_id: str
    key_id: str | None  # None when the authorizer context names no key


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


def caller_if_any() -> Caller | None:
    """The caller of the running private route; None for a public or unknown route."""
    return _caller.get()


def route_key(route: Route) -> tuple[str, str]:
    """A route as template.yaml spells it: `GET /v1/jobs/{job_id}`."""
    return route.method.upper(), route.openapi_path


class RequireCaller(BaseMiddlewareHandler[APIGatewayHttpResolver]):
    """401 (OpenAI's body, from the one error map) for a private route's request that carries no account."""

    def handler(self, app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
        # Powertools puts the matched route in the context; an unmatched request gets a stand-in route, not one of
        # the app's, and answers its 404 with or without a key.
        route: Route = app.context["_route"]
        if route_key(route) in PUBLIC_ROUTES or not any(route is known for known in registered_routes(app)):
            return next_middleware(app)
        with _calling(_caller_in(app.current_event)):
            return next_middleware(app)


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


def _caller_in(event: APIGatewayProxyEventV2) -> Caller:
    context = event.request_context.authorizer.get_lambda or {}
    account_id = context.get("account_id")
    if not account_id:
        raise Unauthenticated("Incorrect API key provided. Send 'Authorization: Bearer <key>'.")
    return Caller(account_id=str(account_id), key_id=str(context["key_id"]) if context.get("key_id") else None)


def with_principal(event: dict[str, Any], principal: Principal | None) -> dict[str, Any]:
    """The event as the HTTP API's authorizer would have passed it, for entries without one (the Function URL):
    whatever context the request carried is replaced, so a caller cannot name its own account."""
    context = {**event.get("requestContext", {}), "authorizer": {"lambda": authorizer_response(principal)["context"]}}
    return {**event, "requestContext": context}
