"""Request models: what a client may submit, validated at the edge against the model catalog."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator
from pydantic_core import PydanticCustomError

from retouch.catalog import DEFAULT_MODEL, MAX_FILE_BYTES, ModelLimits, find_model
from retouch.models.common import Background, Moderation, OutputFormat, Quality, ResponseFormat
from retouch.models.end_users import EndUserId
from retouch.models.webhooks import WebhookEvents, WebhookUrl

_SIZE = re.compile(r"^([1-9][0-9]{1,4})x([1-9][0-9]{1,4})$")
MAX_METADATA_PAIRS = 16
MAX_METADATA_KEY = 64
MAX_METADATA_VALUE = 512
WEBHOOK_FIELDS = frozenset({"webhook_url", "webhook_events"})  # ours: stored on the job, never sent to the provider
# How Retouch answers, not how the image is made: never in what reaches the provider as an option. (`partial_images`
# reaches an upstream that streams as its own argument: jobs/partial_frames.py.)
ANSWER_FIELDS = frozenset({"response_format", "partial_images"})
MAX_PARTIAL_IMAGES = 3  # OpenAI's bound: 0-3


def _invalid(code: str, param: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(code, message, {"param": param})


def size_problem(size: str, limits: ModelLimits) -> str | None:
    """Why `size` is not acceptable for a model with `limits`, or None when it is."""
    if size == "auto":
        return None
    if limits.sizes is not None:
        return None if size in limits.sizes else f"this model makes only {', '.join(limits.sizes)} or auto"
    match = _SIZE.match(size)
    if not match:
        return "size must be 'auto' or 'WIDTHxHEIGHT', e.g. '1024x1536'"
    width, height = int(match.group(1)), int(match.group(2))
    if width % limits.size_multiple or height % limits.size_multiple:
        return f"both sides must be divisible by {limits.size_multiple}"
    if max(width, height) > limits.max_edge:
        return f"the longest edge must be at most {limits.max_edge} pixels"
    if max(width, height) / min(width, height) > limits.max_aspect_ratio:
        return "the aspect ratio must be between 1:3 and 3:1"
    if not limits.min_pixels <= width * height <= limits.max_pixels:
        return f"the pixel count must be between {limits.min_pixels:,} and {limits.max_pixels:,}"
    return None


class ImageOptions(BaseModel):
    """Options common to generations and edits (OpenAI's names and defaults)."""

    model_config = ConfigDict(extra="forbid")

    model: str = DEFAULT_MODEL
    prompt: str = Field(min_length=1)
    n: int = Field(default=1, ge=1)
    size: str = "auto"
    quality: Quality = "auto"
    background: Background = "auto"
    output_format: OutputFormat = "png"
    output_compression: int | None = Field(default=None, ge=0, le=100)
    moderation: Moderation = "auto"
    user: EndUserId | None = None  # the account's end user: recorded, limited and reported (models/end_users.py)
    safety_identifier: str | None = Field(default=None, max_length=256)
    # Unset: b64_json when the job ends within the request (as OpenAI answers for GPT image models), url otherwise.
    response_format: ResponseFormat | None = None
    metadata: dict[str, str] = Field(default_factory=dict, description="Up to 16 string pairs, echoed on the job")
    webhook_url: WebhookUrl
    webhook_events: WebhookEvents
    # OpenAI's streaming (docs/api.md#streaming): the answer as Server-Sent Events, with up to `partial_images`
    # previews per image while it is made. `stream` is how this request is answered, never stored on the job.
    stream: bool = False
    partial_images: int | None = Field(default=None, ge=0, le=MAX_PARTIAL_IMAGES)

    @field_validator("model")
    @classmethod
    def _canonical_model(cls, value: str) -> str:
        """A dated alias is stored, priced and sent to the provider as the model it names."""
        spec = find_model(value)
        return spec.id if spec is not None else value

    @field_validator("metadata")
    @classmethod
    def _bounded_metadata(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > MAX_METADATA_PAIRS:
            raise _invalid("invalid_metadata", "metadata", f"at most {MAX_METADATA_PAIRS} pairs are allowed")
        for key, item in value.items():
            if not 1 <= len(key) <= MAX_METADATA_KEY or len(item) > MAX_METADATA_VALUE:
                raise _invalid(
                    "invalid_metadata",
                    "metadata",
                    f"keys must be 1-{MAX_METADATA_KEY} characters and values at most {MAX_METADATA_VALUE}",
                )
        return value

    @model_validator(mode="after")
    def _within_model_limits(self) -> ImageOptions:
        spec = find_model(self.model)
        if spec is None:
            raise _invalid("model_not_found", "model", f"The model '{self.model}' does not exist or is not supported.")
        limits = spec.limits
        if len(self.prompt) > limits.max_prompt_chars:
            raise _invalid("invalid_value", "prompt", f"prompt must be at most {limits.max_prompt_chars} characters")
        if self.n > limits.max_n:
            raise _invalid("invalid_value", "n", f"n must be between 1 and {limits.max_n}")
        problem = size_problem(self.size, limits)
        if problem:
            raise _invalid("invalid_size", "size", f"Invalid size '{self.size}': {problem}.")
        if self.output_compression is not None and self.output_format not in ("jpeg", "webp"):
            raise _invalid("invalid_value", "output_compression", "output_compression applies only to jpeg and webp")
        if self.background == "transparent" and self.output_format not in ("png", "webp"):
            raise _invalid("invalid_value", "background", "a transparent background needs output_format png or webp")
        return self

    def job_request(self) -> dict[str, Any]:
        """What the job record keeps as its `request`: the provider's options and `response_format` (metadata and
        the webhook are stored beside it, the input images as stored inputs)."""
        stored = self.model_dump(mode="json", exclude={"metadata", "images", "mask", "stream", *WEBHOOK_FIELDS},
                                 exclude_none=True)
        if not self.stream or not stored.get("partial_images"):
            stored.pop("partial_images", None)  # previews are made only for a request that streams them
        return stored

    def provider_options(self) -> dict[str, Any]:
        return provider_options(self.job_request())


def provider_options(job_request: dict[str, Any]) -> dict[str, Any]:
    """The one decision of what reaches the provider: a job's stored request without `response_format` (how
    Retouch answers, not how the image is made)."""
    return {name: value for name, value in job_request.items() if name not in ANSWER_FIELDS}


class GenerationRequest(ImageOptions):
    """`POST /v1/images/generations` (JSON)."""


class UploadedImage(BaseModel):
    """An image sent as bytes (multipart part or decoded data: URL)."""

    filename: str = "image"
    content_type: str | None = None
    data: bytes = Field(repr=False)


class ImageUrl(BaseModel):
    """OpenAI's JSON image reference: an http(s) URL fetched by the worker, or a data: URL."""

    model_config = ConfigDict(extra="forbid")
    image_url: str = Field(min_length=1)


class FileRef(BaseModel):
    """OpenAI's JSON reference to an uploaded file (`POST /v1/uploads`); checked against the account at submit."""

    model_config = ConfigDict(extra="forbid")
    file_id: str = Field(min_length=1)


def image_kind(otherwise: str) -> Callable[[Any], str]:
    """Which member of an image union a value is meant as, by the key it has (`image_url`, `file_id`; `otherwise`
    with neither), so a bad value is reported against that member, never as a key the first member misses."""

    def kind(value: Any) -> str:
        if isinstance(value, BaseModel):
            return type(value).__name__
        if isinstance(value, dict):
            for key, tag in (("image_url", "ImageUrl"), ("file_id", "FileRef")):
                if key in value:
                    return tag
        return otherwise

    return kind


EditImage = Annotated[
    Annotated[UploadedImage, Tag("UploadedImage")] | Annotated[ImageUrl, Tag("ImageUrl")]
    | Annotated[FileRef, Tag("FileRef")],
    Discriminator(image_kind("UploadedImage")),
]


class EditRequest(ImageOptions):
    """`POST /v1/images/edits` (multipart/form-data or JSON)."""

    images: list[EditImage] = Field(min_length=1)
    mask: EditImage | None = None

    @model_validator(mode="after")
    def _image_count(self) -> EditRequest:
        check_image_count(self.model, len(self.images))
        return self


def check_image_count(model_id: str, count: int) -> None:
    """No more input images than the model takes (an edit's, a quote's): a 400 naming `image`."""
    spec = find_model(model_id)
    if spec is not None and count > spec.limits.max_images:
        raise _invalid("invalid_value", "image", f"at most {spec.limits.max_images} images are allowed")


UploadMimeType = Literal["image/png", "image/jpeg", "image/webp"]


class UploadRequest(BaseModel):
    """`POST /v1/uploads` (JSON): a file the client then sends straight to S3, at most MAX_FILE_BYTES."""

    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=255)
    bytes: int = Field(ge=1, le=MAX_FILE_BYTES, description="The file's exact size; S3 refuses any other")
    mime_type: UploadMimeType = Field(description="Sent as the upload's Content-Type; S3 refuses any other")
    purpose: Literal["vision", "user_data"] = "vision"
    user: EndUserId | None = Field(default=None, description="The end user it is uploaded for (or X-End-User)")
