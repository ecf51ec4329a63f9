"""A quote's request and answer: an edit's or a generation's body, whose images need no bytes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator
from pydantic_core import PydanticCustomError

from retouch.models.requests import FileRef, ImageOptions, ImageUrl, check_image_count, image_kind


class DeclaredImage(BaseModel):
    """An input image known by its size only (the quote needs no bytes)."""

    model_config = ConfigDict(extra="forbid")
    width: int = Field(ge=1, le=100_000)
    height: int = Field(ge=1, le=100_000)


# A dict with neither `image_url` nor `file_id` is a declared size: its errors name `width` and `height`.
QuotedImage = Annotated[
    Annotated[ImageUrl, Tag("ImageUrl")] | Annotated[FileRef, Tag("FileRef")]
    | Annotated[DeclaredImage, Tag("DeclaredImage")],
    Discriminator(image_kind("DeclaredImage")),
]


class QuoteRequest(ImageOptions):
    """`POST /v1/images/quote`: a generation's body, or an edit's with `images` (and `mask`) as `{image_url}`,
    `{file_id}` or `{width, height}`."""

    images: list[QuotedImage] = Field(default_factory=list)
    mask: QuotedImage | None = None

    @model_validator(mode="after")
    def _image_count(self) -> QuoteRequest:
        check_image_count(self.model, len(self.images))
        if self.mask is not None and not self.images:  # an edit's body without its images: as the edit answers it
            raise PydanticCustomError("missing", "a mask needs images", {"param": "images"})
        return self


class QuoteView(BaseModel):
    object: Literal["image.quote"] = "image.quote"
    model: str
    operation: Literal["edit", "generation"]
    input_images: int = Field(description="Input images and the mask")
    hold_usd: float = Field(description="What a job of this request would hold from the balance (the worst case)")
    hold_micros: int
    expected_usd: float = Field(description="What it is expected to be charged (inputs estimated)")
    expected_micros: int
    hold: dict[str, Any] = Field(description="The hold's parts: outputs, inputs and their tokens")
    expected: dict[str, Any] = Field(description="The expected charge's parts")
    pricing_version: str
    markup_percent: int
