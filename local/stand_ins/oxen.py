"""Oxen's inference API for `gpt-image-2-edit`, through its async queue.

    POST /api/ai/queue        Bearer key; {"model", "prompt", "input_image": [urls], "resolution", "quality",
                              "output_format", "mask_url"}  ->  {"generations": [{"generation_id", "status"}]}
    GET  /api/ai/queue/{id}   -> {"generation_id", "status": queued|processing|succeeded|failed,
                                  "result_url", "cost"} or {"error_message"} when failed

The mask is black and white, WHITE = edit (a mask with transparency, OpenAI's kind, is refused). `cost` is USD:
$0.20 at HD sizes (1920x1080 and lower), $0.40 at QHD+. A safety refusal ends the generation `failed`. Errors
outside a generation answer `{"status": "error", "status_message"}`.
"""

from __future__ import annotations

import uuid
from typing import Any

from PIL import Image
from werkzeug.wrappers import Request, Response

from local.stand_ins.drawing import auto_size
from local.stand_ins.json_api import JsonStandIn, WireError, draw_edits, json_object, json_response
from local.stand_ins.queue import JobQueue
from local.stand_ins.url_inputs import InputUnavailable, alpha_mask_from_white_edits, fetch_image, fetch_images

MODEL = "gpt-image-2-edit"
QUEUE_PATH = "/api/ai/queue"
RESOLUTIONS = ("auto", "1024x768", "1024x1024", "1024x1536", "1920x1080", "2560x1440", "3840x2160")
QUALITIES = ("auto", "low", "medium", "high")
OUTPUT_FORMATS = ("png", "jpeg", "webp")
HD_COST, QHD_COST = 0.2, 0.4
_SAFETY_MESSAGE = "The request was rejected by the model provider's safety system (content moderation)."


def _error(status: int, message: str) -> WireError:
    return WireError(status, {"status": "error", "status_message": message})


class OxenFake(JsonStandIn):
    """Oxen on loopback; `base_url` is its origin (the adapter's `base_url`)."""

    upstream = "oxen"

    answers_at_once = True

    def __init__(self, *args: Any, pending_polls: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.jobs = JobQueue(pending_polls)

    def route(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        if path != QUEUE_PATH and not path.startswith(QUEUE_PATH + "/"):
            raise _error(404, "not found")
        if not self.key_accepted(self.authorization_key(request)):
            raise _error(401, "unauthenticated: a valid API key is required")
        if request.method == "POST" and path == QUEUE_PATH:
            return json_response(200, self._enqueue(json_object(request)))
        if request.method == "GET" and path != QUEUE_PATH:
            return json_response(200, self._status(path.removeprefix(QUEUE_PATH + "/")))
        raise _error(405, "method not allowed")

    def _enqueue(self, body: dict[str, Any] | None) -> dict[str, Any]:
        if body is None:
            raise _error(400, "the body must be a JSON object")
        prompt, urls = body.get("prompt"), body.get("input_image")
        self.record_json("queue", prompt, body, image_count=len(urls) if isinstance(urls, list) else 0,
                         size=body.get("resolution"), has_mask="mask_url" in body)
        resolution, quality = body.get("resolution", "auto"), body.get("quality", "high")
        output_format = body.get("output_format", "png")
        for name, value, allowed in (("resolution", resolution, RESOLUTIONS), ("quality", quality, QUALITIES),
                                     ("output_format", output_format, OUTPUT_FORMATS)):
            if value not in allowed:
                raise _error(400, f"{name} must be one of: {', '.join(allowed)}")
        if body.get("model") != MODEL:
            raise _error(400, f"unknown model {body.get('model')!r}")
        if not isinstance(prompt, str) or not prompt.strip():
            raise _error(400, "prompt is required")
        fault = self.http_fault(prompt, lambda status, _: {"status": "error", "status_message": f"HTTP {status}"})
        try:
            images = fetch_images(urls)
            mask = alpha_mask_from_white_edits(fetch_image(body["mask_url"])) if "mask_url" in body else None
        except InputUnavailable as exc:
            raise _error(400, f"input_image: {exc}") from exc
        job = self.jobs.add(self._outcome(prompt, fault, images, mask, resolution, output_format),
                            job_id=f"gen_{uuid.uuid4().hex[:16]}", ready_after=self.delay)
        return {"generations": [{"generation_id": job.job_id, "status": "queued"}]}

    def _outcome(self, prompt: str, fault: str | None, images: list[Image.Image], mask: Image.Image | None,
                 resolution: str, output_format: str) -> dict[str, Any]:
        if fault == "safety":
            return {"status": "failed", "error_message": _SAFETY_MESSAGE}
        if fault == "invalid_image":
            return {"status": "failed", "error_message": "input_image could not be decoded"}
        width, height = (auto_size(images[0].size) if resolution == "auto"
                         else (int(side) for side in resolution.split("x")))
        (data,) = draw_edits(prompt, images, mask, (width, height), output_format, 1)
        return {"status": "succeeded", "result_url": self.publish(data, output_format),
                "cost": QHD_COST if width * height > 1920 * 1080 else HD_COST}

    def _status(self, generation_id: str) -> dict[str, Any]:
        job = self.jobs.poll(generation_id)
        if job is None:
            raise _error(404, f"generation {generation_id} not found")
        if not job.done:
            return {"generation_id": generation_id, "status": "processing"}
        return {"generation_id": generation_id, **job.outcome}
