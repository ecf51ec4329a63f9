"""Input-image rules shared by the API (uploads, data: URLs) and the worker (fetched URLs)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from retouch.catalog import ModelLimits
from retouch.errors import InvalidImage, InvalidRequest
from retouch.images.inspect import (
    CONTENT_TYPES,
    ImageInfo,
    InvalidImage as UnreadableImage,
    TooManyPixels,
    decode_image,
    sniff_format,
)

EXTENSIONS = {"png": "png", "jpeg": "jpg", "webp": "webp"}


@dataclass(frozen=True)
class CheckedImage:
    data: bytes
    info: ImageInfo

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.info.format]


def decode_data_url(url: str, param: str) -> bytes:
    """`data:image/png;base64,...` -> bytes."""
    header, _, payload = url.partition(",")
    if not header.startswith("data:") or ";base64" not in header or not payload:
        raise InvalidRequest("Image data URLs must look like 'data:image/png;base64,...'.", param=param)
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequest("The image data URL is not valid base64.", param=param) from exc


def _decoded(data: bytes, limits: ModelLimits, param: str, *, what: str, code: str) -> ImageInfo:
    try:
        return decode_image(data, max_pixels=limits.max_image_pixels)
    except TooManyPixels as exc:
        raise InvalidImage(f"{what} has too many pixels: {exc} (the limit is {limits.max_image_pixels:,}).",
                           param=param, code="image_too_large") from exc
    except UnreadableImage as exc:
        raise InvalidImage(f"{what} could not be read: {exc}", param=param, code=code) from exc


def check_image(data: bytes, limits: ModelLimits, param: str) -> CheckedImage:
    """An input image: PNG, JPEG or WebP by content (never by name), within the byte and pixel caps, and
    decoding completely."""
    if len(data) > limits.max_image_bytes:
        raise InvalidImage(f"Each image must be at most {limits.max_image_bytes // (1024 * 1024)} MB.", param=param)
    fmt = sniff_format(data)
    if fmt not in limits.image_formats:
        raise InvalidImage("Unsupported image: send PNG, JPEG or WebP (detected by content).", param=param,
                           code="invalid_image_format")
    return CheckedImage(data=data, info=_decoded(data, limits, param, what="The image", code="invalid_image"))


def check_mask(data: bytes, first_image: ImageInfo | None, limits: ModelLimits) -> CheckedImage:
    """The mask: a PNG with an alpha channel, within its cap, with the first image's dimensions."""
    if len(data) > limits.max_mask_bytes:
        raise InvalidImage(f"The mask must be at most {limits.max_mask_bytes // (1024 * 1024)} MB.", param="mask",
                           code="invalid_mask")
    if sniff_format(data) != "png":
        raise InvalidImage("The mask must be a PNG image.", param="mask", code="invalid_mask")
    info = _decoded(data, limits, "mask", what="The mask", code="invalid_mask")
    if not info.has_alpha:
        raise InvalidImage("The mask must have an alpha channel.", param="mask", code="invalid_mask")
    if first_image is not None and (info.width, info.height) != (first_image.width, first_image.height):
        raise InvalidImage(
            f"The mask is {info.width}x{info.height} but the first image is "
            f"{first_image.width}x{first_image.height}; they must match.",
            param="mask",
            code="invalid_mask",
        )
    return CheckedImage(data=data, info=info)


def content_type_of(fmt: str) -> str:
    return CONTENT_TYPES[fmt]
