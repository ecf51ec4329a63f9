"""Input-image rules shared by the API (uploads, data: URLs, uploaded files) and the worker (every input).

Each rule is checked on the whole image (`check_image`, `check_mask`: the header, then a complete decode within
bounded memory) or, for files too large to read in the api function, on the first bytes and the object's size
(`check_image_header`, `check_mask_header`): the same rules, the same errors. The worker always checks the whole
image. An image known by its size alone (a quote's `{width, height}`) meets the rules a size can be checked against
(`declared_image_rules`, `declared_mask_rules`), with the same errors too.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, Protocol, TypeVar

from retouch.catalog import MB, ModelLimits
from retouch.errors import InvalidImage, InvalidRequest
from retouch.images.inspect import (
    ImageInfo,
    ImageSource,
    TooManyPixels,
    UnreadableImage,
    decode_image,
    inspect_header,
    leading_bytes,
    sniff_format,
    source_size,
)

_S = TypeVar("_S", bound=bytes | BinaryIO)

EXTENSIONS = {"png": "png", "jpeg": "jpg", "webp": "webp"}
_UNSUPPORTED = "Unsupported image: send PNG, JPEG or WebP (detected by content)."
_MASK_NOT_PNG = "The mask must be a PNG image."


class Dimensions(Protocol):
    """An image's size: as read (ImageInfo), or as declared (a quote's `{width, height}`)."""

    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...


@dataclass(frozen=True)
class CheckedImage:
    data: bytes
    info: ImageInfo

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.info.format]


# The longest http(s) `image_url` taken (the worker's fetch takes no longer: outbound_http.url_safety).
MAX_IMAGE_URL_CHARS = 4096


def image_url_input(url: str, param: str) -> bytes | str:
    """An `image_url` as an input: a data: URL's bytes, or an http(s) URL, whose form alone is checked here (the
    worker fetches it, vetted, and checks what it gets); anything else is a 400 naming `param`."""
    if url.startswith("data:"):
        return decode_data_url(url, param)
    if url.startswith(("https://", "http://")) and len(url) <= MAX_IMAGE_URL_CHARS:
        return url
    raise InvalidRequest("image_url must be an http(s) URL or a base64 data: URL.", param=param,
                         code="invalid_image_url")


def decode_data_url(url: str, param: str) -> bytes:
    """`data:image/png;base64,...` -> bytes."""
    header, _, payload = url.partition(",")
    if not header.startswith("data:") or ";base64" not in header or not payload:
        raise InvalidRequest("Image data URLs must look like 'data:image/png;base64,...'.", param=param)
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequest("The image data URL is not valid base64.", param=param) from exc


def _too_many_pixels(info: Dimensions, limits: ModelLimits, param: str, what: str) -> None:
    if info.width * info.height > limits.max_image_pixels:
        raise InvalidImage(f"{what} is {info.width}x{info.height}: at most {limits.max_image_pixels:,} pixels "
                           "are allowed.", param=param, code="image_too_large")


def _image_bytes_cap(size: int, limits: ModelLimits, param: str) -> None:
    if size > limits.max_image_bytes:
        raise InvalidImage(f"Each image must be at most {limits.max_image_bytes // MB} MB.", param=param)


def _mask_bytes_cap(size: int, limits: ModelLimits, param: str) -> None:
    if size > limits.max_mask_bytes:
        raise InvalidImage(f"The mask must be at most {limits.max_mask_bytes // MB} MB.", param=param,
                           code="invalid_mask")


def image_rules(info: ImageInfo, size: int, limits: ModelLimits, param: str) -> ImageInfo:
    """What an input image of `size` bytes, read as `info`, must be: within the byte and pixel caps, in an
    accepted format. Also used on what an uploaded file was found to be when it was read."""
    _image_bytes_cap(size, limits, param)
    if info.format not in limits.image_formats:
        raise InvalidImage(_UNSUPPORTED, param=param, code="invalid_image_format")
    _too_many_pixels(info, limits, param, "The image")
    return info


def mask_rules(info: ImageInfo, size: int, first_image: Dimensions | None, limits: ModelLimits,
               param: str) -> ImageInfo:
    """What the mask must be: a PNG with an alpha channel, within its caps, with the first image's dimensions."""
    _mask_bytes_cap(size, limits, param)
    if info.format != "png":
        raise InvalidImage(_MASK_NOT_PNG, param=param, code="invalid_mask")
    _too_many_pixels(info, limits, param, "The mask")
    if not info.has_alpha:
        raise InvalidImage("The mask must have an alpha channel.", param=param, code="invalid_mask")
    _same_size_as_first_image(info, first_image, param)
    return info


def _same_size_as_first_image(mask: Dimensions, first_image: Dimensions | None, param: str) -> None:
    if first_image is not None and (mask.width, mask.height) != (first_image.width, first_image.height):
        raise InvalidImage(
            f"The mask is {mask.width}x{mask.height} but the first image is "
            f"{first_image.width}x{first_image.height}; they must match.",
            param=param,
            code="invalid_mask",
        )


def declared_image_rules(size: Dimensions, limits: ModelLimits, param: str) -> None:
    """What an image known by its size alone can be checked for: `image_rules`' pixel cap (its bytes and format are
    known only once it is sent)."""
    _too_many_pixels(size, limits, param, "The image")


def declared_mask_rules(size: Dimensions, first_image: Dimensions | None, limits: ModelLimits, param: str) -> None:
    """What a mask known by its size alone can be checked for: `mask_rules`' pixel cap and the first image's
    dimensions (that it is a PNG with an alpha channel, within its byte cap, only once it is sent)."""
    _too_many_pixels(size, limits, param, "The mask")
    _same_size_as_first_image(size, first_image, param)


def _read(data: _S, inspect: Callable[[_S], ImageInfo], param: str, *, what: str, code: str,
          unsupported: str, unsupported_code: str) -> ImageInfo:
    """The bytes' format (by content, never by name) and header, or the error naming `param`."""
    if sniff_format(leading_bytes(data)) is None:
        raise InvalidImage(unsupported, param=param, code=unsupported_code)
    try:
        return inspect(data)
    except TooManyPixels as exc:  # refused from the header, before any pixel was decoded
        raise InvalidImage(f"{what} has too many pixels: {exc}.", param=param, code="image_too_large") from exc
    except UnreadableImage as exc:
        raise InvalidImage(f"{what} could not be read: {exc}", param=param, code=code) from exc


def _decoded(limits: ModelLimits) -> Callable[[ImageSource], ImageInfo]:
    """Reading a whole image: its header, then proof that all of it decodes, within bounded memory."""
    return lambda data: decode_image(data, max_pixels=limits.max_image_pixels)


def _image_info(data: _S, size: int, inspect: Callable[[_S], ImageInfo], limits: ModelLimits,
                param: str) -> ImageInfo:
    _image_bytes_cap(size, limits, param)  # before reading anything
    info = _read(data, inspect, param, what="The image", code="invalid_image",
                 unsupported=_UNSUPPORTED, unsupported_code="invalid_image_format")
    return image_rules(info, size, limits, param)


def _mask_info(data: _S, size: int, inspect: Callable[[_S], ImageInfo], first_image: Dimensions | None,
               limits: ModelLimits, param: str) -> ImageInfo:
    _mask_bytes_cap(size, limits, param)  # before reading anything
    info = _read(data, inspect, param, what="The mask", code="invalid_mask", unsupported=_MASK_NOT_PNG,
                 unsupported_code="invalid_mask")
    return mask_rules(info, size, first_image, limits, param)


def checked_image_info(source: ImageSource, limits: ModelLimits, param: str) -> ImageInfo:
    """An input image: PNG, JPEG or WebP by content (never by name), within the byte and pixel caps, and
    decoding completely. A file is read from its start in pieces, never whole."""
    return _image_info(source, source_size(source), _decoded(limits), limits, param)


def check_image(data: bytes, limits: ModelLimits, param: str) -> CheckedImage:
    """`checked_image_info` of bytes in memory, with them."""
    return CheckedImage(data=data, info=checked_image_info(data, limits, param))


def check_image_header(header: bytes, size: int, limits: ModelLimits, param: str) -> ImageInfo:
    """`check_image` for a `size`-byte file of which only the first bytes were read."""
    return _image_info(header, size, inspect_header, limits, param)


def checked_mask_info(source: ImageSource, first_image: Dimensions | None, limits: ModelLimits,
                      param: str = "mask") -> ImageInfo:
    """The mask: a PNG with an alpha channel, within its cap, with the first image's dimensions."""
    return _mask_info(source, source_size(source), _decoded(limits), first_image, limits, param)


def check_mask(data: bytes, first_image: Dimensions | None, limits: ModelLimits, param: str = "mask") -> CheckedImage:
    """`checked_mask_info` of bytes in memory, with them."""
    return CheckedImage(data=data, info=checked_mask_info(data, first_image, limits, param))


def check_mask_header(header: bytes, size: int, first_image: Dimensions | None, limits: ModelLimits,
                      param: str) -> ImageInfo:
    """`check_mask` for a `size`-byte file of which only the first bytes were read."""
    return _mask_info(header, size, inspect_header, first_image, limits, param)
