"""Response models: what clients see. A finished job is also a valid OpenAI `ImagesResponse`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from retouch.models.common import JobKind, JobStatus


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class ImageData(BaseModel):
    url: str | None = None
    b64_json: str | None = None
    width: int
    height: int
    content_type: str
    bytes: int


class JobErrorView(BaseModel):
    code: str
    message: str


class JobView(BaseModel):
    id: str
    object: Literal["image.job"] = "image.job"
    kind: JobKind
    status: JobStatus
    model: str
    created: int = Field(description="Unix seconds (OpenAI's name)")
    created_at: int
    started_at: int | None = None
    completed_at: int | None = None
    request: dict[str, Any] = Field(description="The submitted parameters, without image bytes")
    size: str | None = None
    quality: str | None = None
    output_format: str | None = None
    background: str | None = None
    data: list[ImageData] = Field(default_factory=list)
    usage: dict[str, Any] | None = None
    error: JobErrorView | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class ModelView(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str
    limits: dict[str, Any]
    qualities: list[str]
    output_formats: list[str]
    backgrounds: list[str]
    unsupported_parameters: list[str]


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelView]


class Health(BaseModel):
    status: Literal["ok"] = "ok"
