"""OpenAI's streamed image answer (`stream=true`): Server-Sent Events, `partial_images` previews spread over the
stand-in's delay, then one `completed` event per image with the usage.

As OpenAI sends them: `event: image_edit.partial_image` (or `image_generation.partial_image`) whose data carries
`type`, `b64_json`, `partial_image_index`, `size`, `quality`, `background`, `output_format` and `created_at`, then
`image_edit.completed` with the same fields and `usage`. Each partial is billed as 100 more image output tokens, as
OpenAI bills them. The previews here are the final image blurred less at each step, so a client can tell them apart.
"""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageFilter

if TYPE_CHECKING:
    from local.stand_ins.openai_images import ImagesRequest

# What OpenAI adds to a streamed call's output tokens for each partial image it sends.
PARTIAL_IMAGE_OUTPUT_TOKENS = 100
MAX_PARTIAL_IMAGES = 3
_PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


def streaming_requested(fields: dict[str, Any]) -> bool:
    """`stream` as JSON (true) or a multipart field ("true")."""
    value = fields.get("stream")
    return value is True or (isinstance(value, str) and value.lower() == "true")


def partial_count(fields: dict[str, Any]) -> int:
    try:
        count = int(fields.get("partial_images") or 0)
    except (TypeError, ValueError):
        return 0
    return max(0, min(count, MAX_PARTIAL_IMAGES))


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


class ImageStream:
    """One streamed answer: `events()` is the response body, written as the delay passes."""

    def __init__(self, request: ImagesRequest, params: dict[str, Any],
                 answer: Callable[[ImagesRequest, dict[str, Any]], dict[str, Any]],
                 delay: float, wait: Callable[[float], None]) -> None:
        self._request = request
        self._params = params
        self._answer = answer
        self._delay = delay
        self._wait = wait
        self._prefix = "image_edit" if request.endpoint == "edits" else "image_generation"

    def events(self) -> Iterator[bytes]:
        started = time.monotonic()
        partials = partial_count(self._request.fields)
        answer = self._answer(self._request, self._params)
        common = {"size": answer["size"], "quality": answer["quality"], "background": answer["background"],
                  "output_format": answer["output_format"]}
        first = base64.b64decode(answer["data"][0]["b64_json"])
        for index in range(partials):
            self._wait_until(started, self._delay * (index + 1) / (partials + 1))
            frame = _preview(first, answer["output_format"], step=index, steps=partials)
            yield sse(f"{self._prefix}.partial_image", {
                "type": f"{self._prefix}.partial_image", "b64_json": base64.b64encode(frame).decode("ascii"),
                "partial_image_index": index, "created_at": int(time.time()), **common})
        self._wait_until(started, self._delay)
        usage = dict(answer["usage"])
        extra = PARTIAL_IMAGE_OUTPUT_TOKENS * partials
        usage["output_tokens"] += extra
        usage["total_tokens"] += extra
        for item in answer["data"]:
            yield sse(f"{self._prefix}.completed", {
                "type": f"{self._prefix}.completed", "b64_json": item["b64_json"], "created_at": int(time.time()),
                "usage": usage, **common})

    def _wait_until(self, started: float, offset: float) -> None:
        self._wait(max(0.0, started + offset - time.monotonic()))


def _preview(final: bytes, output_format: str, *, step: int, steps: int) -> bytes:
    """The final image blurred, less at each later step."""
    with Image.open(io.BytesIO(final)) as image:
        radius = max(1, 12 * (steps - step) // steps)
        blurred = image.filter(ImageFilter.GaussianBlur(radius))
        if output_format == "jpeg" and blurred.mode not in ("RGB", "L"):
            blurred = blurred.convert("RGB")
        out = io.BytesIO()
        blurred.save(out, format=_PIL_FORMATS.get(output_format, "PNG"))
        return out.getvalue()
