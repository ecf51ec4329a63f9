"""The one place domain errors become HTTP responses, always in OpenAI's error shape."""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from retouch.errors import RetouchError
from retouch.models.responses import ErrorBody, ErrorDetail
from retouch.observability.metrics import request_refused

logger = Logger(child=True)


def error_response(status: int, message: str, error_type: str, *, param: str | None = None,
                   code: str | None = None, headers: dict[str, str] | None = None) -> Response:
    body = ErrorBody(error=ErrorDetail(message=message, type=error_type, param=param, code=code))
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=body.model_dump_json(), headers=headers or {})


def register_error_handlers(app: APIGatewayHttpResolver) -> None:
    @app.exception_handler(RetouchError)
    def _domain_error(exc: RetouchError) -> Response:
        request_refused(exc)
        return error_response(exc.status_code, exc.message, exc.error_type, param=exc.param, code=exc.code,
                              headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    def _validation_error(exc: RequestValidationError) -> Response:
        first = (exc.errors() or [{}])[0]
        param = ".".join(str(p) for p in first.get("loc", ())[1:]) or None
        return error_response(400, f"Invalid request: {first.get('msg', 'invalid value')}", "invalid_request_error",
                              param=param, code="invalid_value")

    @app.not_found
    def _not_found(_exc: Exception) -> Response:
        return error_response(404, "Unknown route.", "invalid_request_error", code="not_found")

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        logger.exception("unhandled error")
        return error_response(500, "The server had an error processing your request.", "server_error",
                              code="internal_error")
