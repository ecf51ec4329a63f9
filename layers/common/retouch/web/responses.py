"""JSON responses from pydantic response models."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from pydantic import BaseModel


def json_response(model: BaseModel, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=model.model_dump(mode="json", exclude_none=True), headers=headers or {})


def documented(model: type[BaseModel], description: str) -> dict:
    """An OpenAPI `responses` entry for `model`."""
    return {"description": description, "content": {"application/json": {"model": model}}}
