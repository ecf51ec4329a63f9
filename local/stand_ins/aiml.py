"""AIML API's OpenAI-compatible images API for `openai/gpt-image-2`: Bearer key, `model` required, its own limits,
and the money each call cost.

Per its documentation: `POST /v1/images/edits` (multipart files, at most 16, a PNG mask whose transparent area is
edited) and `/v1/images/generations`; `size` 1024x1024 (default), 1024x1536 or 1536x1024 (no `auto`); `quality`
low/medium (default)/high (no `auto`); n 1-10. It answers `data[].url` with OpenAI's other fields null, and
`meta.usage` with `credits_used` and `usd_spent` (2,000,000 credits to the dollar).
"""

from __future__ import annotations

import base64
from typing import Any

from local.stand_ins.openai_images import ApiError, ImagesRequest, OpenAIImagesFake

MODEL = "openai/gpt-image-2"
SIZES = ("1024x1024", "1024x1536", "1536x1024")
QUALITIES = ("low", "medium", "high")
CREDITS_PER_USD = 2_000_000
# USD per million tokens (OpenAI's gpt-image-2 list prices, with AIML's margin folded in).
_INPUT_USD_PER_MTOK, _OUTPUT_USD_PER_MTOK = 10.0, 40.0


class AimlFake(OpenAIImagesFake):
    """AIML API on loopback; `base_url` (…/v1) is what the adapter's `base_url` takes."""

    upstream = "aiml"

    def validate(self, images_request: ImagesRequest) -> dict[str, Any]:
        fields = images_request.fields
        if fields.get("model") != MODEL:
            raise ApiError(400, f"Invalid model: {fields.get('model')!r}. Expected {MODEL!r}.", param="model")
        fields.setdefault("size", SIZES[0])
        fields.setdefault("quality", "medium")
        if fields["size"] not in SIZES:
            raise ApiError(400, f"Invalid 'size': expected one of {', '.join(SIZES)}.", param="size")
        if fields["quality"] not in QUALITIES:
            raise ApiError(400, f"Invalid 'quality': expected one of {', '.join(QUALITIES)}.", param="quality")
        return super().validate(images_request)

    def answer(self, images_request: ImagesRequest, params: dict[str, Any]) -> dict[str, Any]:
        openai_answer = super().answer(images_request, params)
        usage = openai_answer["usage"]
        usd = round((usage["input_tokens"] * _INPUT_USD_PER_MTOK + usage["output_tokens"] * _OUTPUT_USD_PER_MTOK)
                    / 1_000_000, 7)
        urls = [self.publish(base64.b64decode(item["b64_json"]), params["output_format"])
                for item in openai_answer["data"]]
        return {
            "created": None, "background": None, "output_format": None, "quality": None, "size": None, "usage": None,
            "data": [{"b64_json": None, "revised_prompt": None, "url": url} for url in urls],
            "meta": {"usage": {"credits_used": round(usd * CREDITS_PER_USD), "usd_spent": usd}},
        }
