"""Resolver factory: every HTTP function gets the same error mapping, validation and key check."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.api_gateway import Router

from retouch.web.errors import register_error_handlers
from retouch.web.principal import RequireCaller


def create_app(*routers: Router) -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)
    register_error_handlers(app)
    for router in routers:
        app.include_router(router)
    # Private by default: a route answers without a key only if it is in principal.PUBLIC_ROUTES.
    app.use(middlewares=[RequireCaller()])
    return app
