"""Input images given by URL (presigned S3 GETs on the loopback moto server), as URL-taking providers fetch them.

Only loopback URLs are fetched: the local stack and the tests never leave the machine. A URL that cannot be read
is the caller's error (`InputUnavailable`), which each wire format words its own way.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
from PIL import Image

from local.stand_ins.drawing import UnreadableImage, open_image

FETCH_TIMEOUT_SECONDS = 10.0
MAX_INPUT_BYTES = 50 * 1024 * 1024
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class InputUnavailable(ValueError):
    """An input URL that is not a loopback http(s) URL, does not answer 200, or is not an image."""


def fetch_image(url: Any) -> Image.Image:
    if not isinstance(url, str):
        raise InputUnavailable("an image URL must be a string")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname not in _LOOPBACK_HOSTS:
        raise InputUnavailable(f"cannot download {url[:80]!r}: the stand-in fetches loopback URLs only")
    try:
        with httpx.Client(timeout=FETCH_TIMEOUT_SECONDS) as client, client.stream("GET", url) as response:
            if response.status_code != 200:
                raise InputUnavailable(f"downloading {parts.path} answered HTTP {response.status_code}")
            data = bytearray()
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > MAX_INPUT_BYTES:
                    raise InputUnavailable(f"{parts.path} is larger than {MAX_INPUT_BYTES} bytes")
    except httpx.HTTPError as exc:
        raise InputUnavailable(f"cannot download {parts.path} ({type(exc).__name__})") from exc
    try:
        return open_image(bytes(data))
    except UnreadableImage as exc:
        raise InputUnavailable(f"{parts.path} is not a PNG, JPEG or WebP image") from exc


def fetch_images(urls: Any) -> list[Image.Image]:
    if not isinstance(urls, list) or not urls:
        raise InputUnavailable("at least one image URL is required")
    return [fetch_image(url) for url in urls]


def alpha_mask_from_white_edits(mask: Image.Image) -> Image.Image:
    """A black/white mask (white = edit) as the alpha mask `drawing` reads (transparent = edit).

    A mask with transparency is refused: it is OpenAI's kind, which such a provider would misread."""
    if "A" in mask.getbands() and mask.getchannel("A").getextrema()[0] < 255:
        raise InputUnavailable("the mask has transparency; white pixels mark the area to edit, black keeps it")
    edit = mask.convert("L").point(lambda value: 0 if value >= 128 else 255)
    alpha = Image.new("RGBA", mask.size, (0, 0, 0, 255))
    alpha.putalpha(edit)
    return alpha

