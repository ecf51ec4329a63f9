"""The input and output of fal's `openai/gpt-image-2/edit` endpoint, which Runflow resells with the same schema.

Input: `prompt`, `image_urls` (required), `num_images` 1-4, `output_format` png/jpeg/webp, `image_size` ("auto",
or {width, height} on fal), `quality` low/medium/high (default high), `mask_url` (OpenAI's kind: transparent = edit),
`sync_mode`. Output: `images[]` of {url, content_type, file_name, width, height}. Validation errors are FastAPI's
422 `{"detail": [{"loc", "msg", "type"}]}`; a refusal is a 422 of type `content_policy_violation`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from local.stand_ins.drawing import auto_size
from local.stand_ins.json_api import WireError, draw_edits
from local.stand_ins.stand_in import StandIn
from local.stand_ins.url_inputs import InputUnavailable, fetch_image, fetch_images

QUALITIES = ("low", "medium", "high")
OUTPUT_FORMATS = ("png", "jpeg", "webp")
MAX_IMAGES = 4
MAX_EDGE = 3840
_CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


def detail(status: int, message: str) -> WireError:
    """A plain FastAPI error: {"detail": "..."}."""
    return WireError(status, {"detail": message})


def invalid(field: str, message: str, kind: str = "value_error") -> WireError:
    return WireError(422, {"detail": [{"loc": ["body", field], "msg": message, "type": kind}]})


def refusal() -> WireError:
    return invalid("prompt", "The request was flagged by the content policy (safety system) and was not processed.",
                   "content_policy_violation")


@dataclass(frozen=True)
class FalEdit:
    prompt: str
    image_urls: list[str]
    num_images: int
    output_format: str
    image_size: tuple[int, int] | None  # None: auto
    mask_url: str | None
    sync_mode: bool


def parse_edit(body: dict[str, Any] | None, *, custom_sizes: bool) -> FalEdit:
    if body is None:
        raise detail(400, "The request body must be a JSON object.")
    prompt, urls = body.get("prompt"), body.get("image_urls")
    if not isinstance(prompt, str) or not prompt.strip():
        raise invalid("prompt", "Field required", "missing")
    if not isinstance(urls, list) or not urls or not all(isinstance(url, str) for url in urls):
        raise invalid("image_urls", "Field required: a list of image URLs", "missing")
    num_images = body.get("num_images", 1)
    if isinstance(num_images, bool) or not isinstance(num_images, int) or not 1 <= num_images <= MAX_IMAGES:
        raise invalid("num_images", f"Input should be between 1 and {MAX_IMAGES}")
    output_format = body.get("output_format", "png")
    if output_format not in OUTPUT_FORMATS:
        raise invalid("output_format", f"Input should be {', '.join(OUTPUT_FORMATS)}", "literal_error")
    if body.get("quality", "high") not in QUALITIES:
        raise invalid("quality", f"Input should be {', '.join(QUALITIES)}", "literal_error")
    mask_url = body.get("mask_url")
    if mask_url is not None and not isinstance(mask_url, str):
        raise invalid("mask_url", "Input should be a valid URL")
    return FalEdit(prompt, urls, num_images, output_format, _image_size(body.get("image_size", "auto"), custom_sizes),
                   mask_url, body.get("sync_mode") is True)


def _image_size(value: Any, custom_sizes: bool) -> tuple[int, int] | None:
    if value == "auto":
        return None
    if custom_sizes and isinstance(value, dict) and set(value) == {"width", "height"}:
        width, height = value["width"], value["height"]
        if all(isinstance(side, int) and 16 <= side <= MAX_EDGE and side % 16 == 0 for side in (width, height)):
            return width, height
    raise invalid("image_size", "Input should be 'auto'" + (" or {width, height} in multiples of 16" if custom_sizes
                                                             else ""))


def run_edit(stand_in: StandIn, edit: FalEdit) -> dict[str, Any]:
    """The model's output for an edit: images as data: URIs in sync mode, else as URLs on the stand-in."""
    try:
        images = fetch_images(edit.image_urls)
        mask = fetch_image(edit.mask_url) if edit.mask_url is not None else None
    except InputUnavailable as exc:
        raise invalid("image_urls", f"Could not download the image: {exc}", "file_download_error") from exc
    size = edit.image_size or auto_size(images[0].size)
    outputs = draw_edits(edit.prompt, images, mask, size, edit.output_format, edit.num_images)
    content_type = _CONTENT_TYPES[edit.output_format]
    return {"images": [
        {"url": (f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}" if edit.sync_mode
                 else stand_in.publish(data, edit.output_format)),
         "content_type": content_type, "file_name": f"output_{index}.{edit.output_format}",
         "width": size[0], "height": size[1]}
        for index, data in enumerate(outputs)
    ]}
