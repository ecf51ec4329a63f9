"""The one place domain errors become HTTP responses, always in OpenAI's error shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from retouch.errors import RetouchError
from retouch.models.responses import ErrorBody, ErrorDetail
from retouch.observability.metrics import request_refused

logger = Logger(child=True)

Handler = TypeVar("Handler", bound=Callable[..., "Response[str]"])


def error_response(status: int, message: str, error_type: str, *, param: str | None = None,
                   code: str | None = None, headers: dict[str, str] | None = None) -> Response[str]:
    body = ErrorBody(error=ErrorDetail(message=message, type=error_type, param=param, code=code))
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=body.model_dump_json(), headers=headers or {})


def register_error_handlers(app: APIGatewayHttpResolver) -> None:
    @_handles(app, RetouchError)
    def _domain_error(exc: RetouchError) -> Response[str]:
        request_refused(exc)
        return error_response(exc.status_code, exc.message, exc.error_type, param=exc.param, code=exc.code,
                              headers=exc.headers)

    @_handles(app, RequestValidationError)
    def _validation_error(exc: RequestValidationError) -> Response[str]:
        first = (exc.errors() or [{}])[0]
        param = ".".join(str(p) for p in first.get("loc", ())[1:]) or None
        return error_response(400, f"Invalid request: {first.get('msg', 'invalid value')}", "invalid_request_error",
                              param=param, code="invalid_value")

    @app.not_found
    def _not_found(_exc: Exception) -> Response[str]:
        return error_response(404, "Unknown route.", "invalid_request_error", code="not_found")

    @_handles(app, Exception)
    def _unexpected(exc: Exception) -> Response[str]:
        logger.exception("unhandled error")
        return error_response(500, "The server had an error processing your request.", "server_error",
                              code="internal_error")


def _handles(app: APIGatewayHttpResolver, exc_class: type[Exception]) -> Callable[[Handler], Handler]:
    """`app.exception_handler(exc_class)`, typed: Powertools leaves its decorator unannotated."""
    register = app.exception_handler(exc_class)

    def decorator(handler: Handler) -> Handler:
        register(handler)
        return handler

    return decorator
