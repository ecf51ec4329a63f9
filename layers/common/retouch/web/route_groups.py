"""How a route gets its collaborators: each routes module is one RouteGroup, its router and the one typed object its
routes are handed (`needs`, declared beside the routes). A function's wiring builds those objects from its settings;
create_app binds them to its app, and the app hands them, and the request it is resolving, to its routes for the span
of one request (`group.deps()`, `group.event()`, `group.lambda_context()`), as it hands the caller (principal.py).

Why not the resolver's `context` (`app.append_context`) or `router.current_event`: Powertools points a router's
context, event and Lambda context at the app that included it last, and one router is included in several apps (the
api and sync functions both serve the image routes; the OpenAPI document includes every router). Bound per request
here, two functions' apps in one process each hand their routes their own collaborators and their own request.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.middlewares import BaseMiddlewareHandler, NextMiddleware
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext

D = TypeVar("D")


@dataclass(frozen=True)
class _Serving:
    app: APIGatewayHttpResolver
    collaborators: Mapping[type, object]


# Set by ProvideCollaborators for exactly the span of one request's resolution.
_serving: ContextVar[_Serving | None] = ContextVar("retouch_serving", default=None)


@dataclass(frozen=True, eq=False)
class RouteGroup(Generic[D]):
    """A routes module's router and the type of the one object its routes need (None: they need nothing)."""

    router: Router
    needs: type[D] | None = None

    def deps(self) -> D:
        """This group's collaborators, as the function resolving the request built them."""
        if self.needs is None:
            raise RuntimeError("deps() in a route group that declares no needs")
        found = _current().collaborators.get(self.needs)
        if found is None:  # create_app's check makes this a bug in a test's app, never in a function's
            raise RuntimeError(f"the app resolving this request was given no {self.needs.__name__}")
        return found  # type: ignore[return-value]  # keyed by its own type (create_app)

    def event(self) -> APIGatewayProxyEventV2:
        """The request being resolved (not `router.current_event`: that is the last including app's)."""
        return _current().app.current_event

    def lambda_context(self) -> LambdaContext:
        return _current().app.lambda_context


def _current() -> _Serving:
    serving = _serving.get()
    if serving is None:
        raise RuntimeError("no request: a route group's deps() outside a request (was the app built by create_app?)")
    return serving


def by_type(collaborators: list[object]) -> dict[type, object]:
    """Each object under its own type; two of one type is a wiring bug."""
    found: dict[type, object] = {}
    for collaborator in collaborators:
        if type(collaborator) in found:
            raise ValueError(f"two collaborators of type {type(collaborator).__name__}")
        found[type(collaborator)] = collaborator
    return found


class ProvideCollaborators(BaseMiddlewareHandler[APIGatewayHttpResolver]):
    """Binds the app's collaborators and the app itself for the span of each request it resolves."""

    def __init__(self, collaborators: Mapping[type, object]) -> None:
        super().__init__()
        self._collaborators = collaborators

    def handler(self, app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
        with _serving_with(_Serving(app=app, collaborators=self._collaborators)):
            return next_middleware(app)


@contextmanager
def _serving_with(serving: _Serving) -> Iterator[None]:
    token = _serving.set(serving)
    try:
        yield
    finally:
        _serving.reset(token)
