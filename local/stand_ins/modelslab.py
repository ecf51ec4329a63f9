"""ModelsLab's v7 image-to-image API (`gpt-image-2-i2i`): the key in the JSON body, `init_image` URLs (up to 14),
`size` presets, and its asynchronous answers.

    POST /api/v7/images/image-to-image   {"key", "model_id", "prompt", "init_image": [urls], "size": preset}
        -> {"status": "processing", "id", "eta", "fetch_result", "future_links"}   (always, here: the job queues)
    POST /api/v7/images/fetch/{id}       {"key"}
        -> "processing" with `eta` until done, then {"status": "success", "output": [urls], ...}

Errors answer `{"status": "error", "message"}`: HTTP 200 for a request it rejects (as its API does), 401 for a
wrong key, 5xx/429 for faults. A safety refusal is an `error` naming NSFW content.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from werkzeug.wrappers import Request, Response

from local.stand_ins.json_api import JsonStandIn, WireError, draw_edits, json_object, json_response
from local.stand_ins.queue import JobQueue
from local.stand_ins.url_inputs import InputUnavailable, fetch_images

MODEL_ID = "gpt-image-2-i2i"
MAX_IMAGES = 14
SUBMIT_PATH = "/api/v7/images/image-to-image"
FETCH_PREFIX = "/api/v7/images/fetch/"
# Its presets, as the pixel sizes OpenAI's gpt-image-2 makes at those names.
SIZE_PRESETS = {
    "square": (1024, 1024),
    "landscape": (1536, 1024),
    "protrait": (1024, 1536),
    "2K square": (2048, 2048),
    "2K landscape": (2048, 1152),
    "4K landscape": (3840, 2160),
    "4K protrait": (2160, 3840),
}
_STATUS_MESSAGES = {500: "Something went wrong, please try again.", 503: "Server is busy, please try again later.",
                    429: "Too many requests, please slow down."}


def _error(message: str) -> dict[str, Any]:
    return {"status": "error", "message": message}


class ModelsLabFake(JsonStandIn):
    """ModelsLab on loopback; `base_url` is its origin (the adapter's URL is base_url + SUBMIT_PATH)."""

    upstream = "modelslab"

    answers_at_once = True

    def __init__(self, *args: Any, pending_polls: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.jobs = JobQueue(pending_polls)
        self._ids = itertools.count(128_842_507)

    @property
    def routing_base_url(self) -> str:
        """ModelsLab's adapter is configured with its submit endpoint's URL, not the API's root."""
        return f"{self.base_url}{SUBMIT_PATH}"

    @property
    def eta_seconds(self) -> int:
        """Its estimate at submit: how long such a job takes (the stand-in's delay), whole seconds."""
        return max(1, math.ceil(self.delay))

    def route(self, request: Request) -> Response:
        path = request.path
        if request.method != "POST" or not (path == SUBMIT_PATH or path.startswith(FETCH_PREFIX)):
            raise WireError(404, {"message": "Not Found"})
        body = json_object(request)
        if body is None:
            return json_response(200, _error("The request body must be a JSON object."))
        if not self.key_accepted(body.get("key") if isinstance(body.get("key"), str) else None):
            raise WireError(401, _error("Invalid Api Key"))
        if path == SUBMIT_PATH:
            return json_response(200, self._submit(body))
        return json_response(200, self._fetch(path.removeprefix(FETCH_PREFIX)))

    def _submit(self, body: dict[str, Any]) -> dict[str, Any]:
        prompt, urls, size = body.get("prompt"), body.get("init_image"), body.get("size")
        self.record_json("image-to-image", prompt, body, image_count=len(urls) if isinstance(urls, list) else 0,
                         size=size)
        if not isinstance(prompt, str) or not prompt.strip():
            return _error("The prompt field is required.")
        if body.get("model_id", MODEL_ID) != MODEL_ID:
            return _error(f"Model {body.get('model_id')!r} is not available on this endpoint.")
        if size not in SIZE_PRESETS:
            return _error(f"The selected size is invalid. Use one of: {', '.join(SIZE_PRESETS)}.")
        if isinstance(urls, list) and len(urls) > MAX_IMAGES:
            return _error(f"You can edit upto {MAX_IMAGES} images in single generation.")
        fault = self.http_fault(prompt, lambda status, _: _error(_STATUS_MESSAGES[status]))
        if fault == "safety":
            return {**_error("NSFW content detected in the prompt or image, please change it and try again."),
                    "nsfw_content_detected": True}
        try:
            images = fetch_images(urls)
        except InputUnavailable as exc:
            return _error(f"init_image is not valid: {exc}")
        if fault == "invalid_image":
            return _error("init_image is not valid: the image could not be processed.")
        outputs = [self.publish(data, "png") for data in draw_edits(prompt, images, None, SIZE_PRESETS[size], "png", 1)]
        job = self.jobs.add(outputs, job_id=str(next(self._ids)), ready_after=self.delay)
        return {"status": "processing", "tip": "Your image is processing in background, you can get this image "
                "using fetch API", "eta": self.eta_seconds, "message": "Try to fetch request after seconds estimated",
                "id": int(job.job_id), "fetch_result": f"{self.origin}{FETCH_PREFIX}{job.job_id}",
                "future_links": outputs, "meta": {"model_id": MODEL_ID, "size": size}}

    def _fetch(self, job_id: str) -> dict[str, Any]:
        job = self.jobs.poll(job_id)
        if job is None:
            return _error("Request not found.")
        if not job.done:
            return {"status": "processing", "id": int(job_id), "eta": job.eta_seconds,
                    "fetch_result": f"{self.origin}{FETCH_PREFIX}{job_id}"}
        return {"status": "success", "generationTime": float(self.delay), "id": int(job_id),
                "output": job.outcome, "proxy_links": job.outcome, "nsfw_content_detected": False, "meta": {}}
