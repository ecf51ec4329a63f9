"""JSON responses from pydantic response models."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel

from retouch.models.responses import ErrorBody, GatewayMessage


def json_response(model: BaseModel, status: int = 200, headers: dict[str, str] | None = None) -> Response[Any]:
    # Response[Any]: the body is the model's JSON dict; each route's own annotation (Response[Model]) names the model.
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=model.model_dump(mode="json", exclude_none=True), headers=headers or {})


def documented(model: Any, description: str) -> OpenAPIResponse:
    """An OpenAPI `responses` entry for `model` (a pydantic model, or a union of them)."""
    return {"description": description, "content": {"application/json": {"model": model}}}


# API Gateway answers a request without an Authorization header itself; the API answers an unknown key.
UNAUTHORIZED = documented(ErrorBody | GatewayMessage, "No key (API Gateway's `{\"message\": \"Unauthorized\"}`) "
                                                      "or an unknown, revoked or suspended one (`invalid_api_key`)")
# A job id the routes cannot match (e.g. one with a `/`) is API Gateway's own 404.
NOT_FOUND_JOB = documented(ErrorBody | GatewayMessage, "No such job for this account")
