"""Resolver factory: every HTTP function gets the same error mapping, validation and key check, and hands its routes
the collaborators its wiring built (web/route_groups.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from retouch.web.errors import register_error_handlers
from retouch.web.principal import RequireCaller
from retouch.web.read_limit import LimitReads, ReadLimit
from retouch.web.route_groups import ProvideCollaborators, RouteGroup, by_type


def create_app(groups: Iterable[RouteGroup[Any]], collaborators: list[object], *,
               read_limit: ReadLimit | None = None, caller_check: RequireCaller | None = None,
               guards: Sequence[Callable[..., Response[Any]]] = ()) -> APIGatewayHttpResolver:
    """An app serving `groups`, each handed its `needs` from `collaborators` (one object per needed type, nothing
    else: a missing or a stray collaborator fails here, at cold start, not at a route's first request). With
    `read_limit` (every function's app), each authenticated request that creates nothing is counted against it.
    `caller_check`: the caller check with its own public routes (the console's); `guards`: middlewares run once the
    caller is known, before the read limit (the console's CSRF check)."""
    groups = list(groups)
    provided = by_type(collaborators)
    needed = {group.needs for group in groups if group.needs is not None}
    if set(provided) != needed:
        missing = sorted(kind.__name__ for kind in needed - set(provided))
        stray = sorted(kind.__name__ for kind in set(provided) - needed)
        raise ValueError(f"collaborators do not match the routes: missing {missing}, not needed {stray}")
    app = APIGatewayHttpResolver(enable_validation=True)
    register_error_handlers(app)
    for group in groups:
        app.include_router(group.router)
    # Private by default: a route answers without a key only if it is in principal.PUBLIC_ROUTES.
    middlewares: list[Callable[..., Response[Any]]] = [ProvideCollaborators(provided), caller_check or RequireCaller(),
                                                       *guards]
    if read_limit is not None:
        middlewares.append(LimitReads(read_limit))  # inside RequireCaller: it counts the caller that one names
    app.use(middlewares=middlewares)
    return app
