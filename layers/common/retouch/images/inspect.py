"""Recognise input images: the format from magic bytes, the size and alpha from the header; and, for inputs,
check that the whole image decodes, within bounded memory (the pixel count is checked before any decoding).

Pillow is imported inside `inspect_image`, not at module import, so handlers that only
need `sniff_format` pay nothing for it on a cold start. `inspect_header` reads the same from the
first bytes of a file only (a ranged read of a large upload in S3).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, Literal

ImageFormat = Literal["png", "jpeg", "webp"]
# An image's bytes in memory, or a seekable binary file holding them (read from its start; never read whole).
ImageSource = bytes | BinaryIO

CONTENT_TYPES: dict[str, str] = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}

_PIL_FORMATS: dict[str, str] = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})

# How much of a large file `read_header` reads, growing only while the header is not complete (metadata such as
# EXIF or ICC profiles comes before a JPEG's frame header and can run to megabytes).
HEADER_READS = (64 * 1024, 1024 * 1024, 8 * 1024 * 1024)

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"


class UnreadableImage(ValueError):
    """The bytes are not a readable PNG, JPEG or WebP image."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TooManyPixels(UnreadableImage):
    """The header announces more pixels than allowed; nothing was decoded."""


@dataclass(frozen=True)
class ImageInfo:
    format: ImageFormat
    content_type: str
    width: int
    height: int
    has_alpha: bool


def sniff_format(data: bytes) -> ImageFormat | None:
    """The image format named by the leading magic bytes, or None when it is none we accept."""
    if data.startswith(_PNG_MAGIC):
        return "png"
    if data.startswith(_JPEG_MAGIC):
        return "jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _stream(source: ImageSource) -> BinaryIO:
    if isinstance(source, bytes):
        return io.BytesIO(source)
    source.seek(0)
    return source


def leading_bytes(source: ImageSource, length: int = 16) -> bytes:
    """The first `length` bytes of `source` (enough for `sniff_format`)."""
    return source[:length] if isinstance(source, bytes) else _stream(source).read(length)


def source_size(source: ImageSource) -> int:
    return len(source) if isinstance(source, bytes) else source.seek(0, io.SEEK_END)


def inspect_image(data: ImageSource) -> ImageInfo:
    """Format, dimensions and alpha of `data`, read from the image header without decoding pixels.

    Raises UnreadableImage when the bytes are not a PNG, JPEG or WebP image Pillow can open.
    """
    fmt = sniff_format(leading_bytes(data))
    if fmt is None:
        raise UnreadableImage("image is not a PNG, JPEG or WebP file")

    from PIL import Image

    try:
        with Image.open(_stream(data), formats=[_PIL_FORMATS[fmt]]) as img:
            width, height = img.size
            has_alpha = img.mode in _ALPHA_MODES or (fmt == "png" and "transparency" in img.info)
    except Image.DecompressionBombError as exc:
        raise UnreadableImage("image dimensions are too large") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        # UnidentifiedImageError is an OSError; truncated or corrupt headers raise the others.
        raise UnreadableImage(f"image could not be read as {fmt.upper()}") from exc

    if width <= 0 or height <= 0:
        raise UnreadableImage("image has no pixels")
    return ImageInfo(format=fmt, content_type=CONTENT_TYPES[fmt], width=width, height=height, has_alpha=has_alpha)


def decode_image(data: ImageSource, *, max_pixels: int) -> ImageInfo:
    """`inspect_image`, then proof that the whole image decodes: every PNG chunk is read and checked (CRCs, the
    end chunk) and the pixels of any format are decoded. Memory stays bounded: the header's pixel count is
    refused above `max_pixels` before decoding (Pillow needs at most 4 bytes a pixel), and a JPEG is decoded
    at 1/8 scale (all of its data is still read and entropy-decoded).

    One decode at a time per process: a worker environment runs a batch's jobs at once (jobs/batch.py), and
    their pixels together must stay within the function's memory (a 50 Mpx decode alone is ~200 MB).

    Raises TooManyPixels, or UnreadableImage for anything truncated or corrupt.
    """
    info = inspect_image(data)
    if info.width * info.height > max_pixels:
        raise TooManyPixels(f"image is {info.width}x{info.height}, more than {max_pixels:,} pixels")
    with _ONE_DECODE_AT_A_TIME:
        _decode_whole(data, info)
    return info


_ONE_DECODE_AT_A_TIME = threading.Lock()


def _decode_whole(data: ImageSource, info: ImageInfo) -> None:
    from PIL import Image

    try:
        if info.format == "png":
            with Image.open(_stream(data), formats=["PNG"]) as img:
                img.verify()  # chunk structure and CRCs up to the end chunk; decodes nothing
        with Image.open(_stream(data), formats=[_PIL_FORMATS[info.format]]) as img:
            if info.format == "jpeg":
                img.draft(img.mode, (max(1, img.width // 8), max(1, img.height // 8)))
            img.load()
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        raise UnreadableImage(f"image data is truncated or corrupt ({info.format.upper()})") from exc


def _webp_header(prefix: bytes) -> ImageInfo:
    """Dimensions and alpha from a WebP's first chunk (Pillow's WebP plugin needs the whole file)."""
    chunk, payload = prefix[12:16], prefix[20:30]
    if len(payload) < 10:
        raise UnreadableImage("image could not be read as WEBP")
    if chunk == b"VP8X":  # extended: flags, then the canvas size minus one, 24 bits each
        width = int.from_bytes(payload[4:7], "little") + 1
        height = int.from_bytes(payload[7:10], "little") + 1
        has_alpha = bool(payload[0] & 0x10)
    elif chunk == b"VP8L" and payload[0] == 0x2F:  # lossless: 14-bit sizes minus one, then the alpha hint
        bits = int.from_bytes(payload[1:5], "little")
        width, height, has_alpha = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool((bits >> 28) & 1)
    elif chunk == b"VP8 " and payload[3:6] == b"\x9d\x01\x2a":  # lossy key frame: 14-bit sizes, no alpha
        width = int.from_bytes(payload[6:8], "little") & 0x3FFF
        height = int.from_bytes(payload[8:10], "little") & 0x3FFF
        has_alpha = False
    else:
        raise UnreadableImage("image could not be read as WEBP")
    if width <= 0 or height <= 0:
        raise UnreadableImage("image has no pixels")
    return ImageInfo(format="webp", content_type=CONTENT_TYPES["webp"], width=width, height=height,
                     has_alpha=has_alpha)


def inspect_header(prefix: bytes) -> ImageInfo:
    """What `inspect_image` reports, from the first bytes of the file only (pixels are never read).

    Raises UnreadableImage when the prefix holds no readable PNG, JPEG or WebP header (corrupt, or cut short).
    """
    if sniff_format(prefix) == "webp":
        return _webp_header(prefix)
    return inspect_image(prefix)


def read_header(read_prefix: Callable[[int], bytes], size: int) -> bytes:
    """The first bytes of a `size`-byte file, read through `read_prefix(n)` in HEADER_READS steps until its
    image header is complete (or the whole file is read, or the last step did not suffice)."""
    prefix = b""
    for length in HEADER_READS:
        prefix = read_prefix(min(length, size))
        if len(prefix) >= size or sniff_format(prefix) is None:
            return prefix
        try:
            inspect_header(prefix)
        except UnreadableImage:
            continue
        return prefix
    return prefix
