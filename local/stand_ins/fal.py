"""fal's queue for `openai/gpt-image-2/edit`: `Authorization: Key …`, submit, status, result.

    POST /openai/gpt-image-2/edit                      -> {"status": "IN_QUEUE", "request_id", "response_url",
                                                           "status_url", "cancel_url", "queue_position"}
    GET  /openai/gpt-image-2/requests/{id}/status      -> 202 IN_QUEUE / IN_PROGRESS, then 200 COMPLETED
    GET  /openai/gpt-image-2/requests/{id}             -> the model's output (or its error with its HTTP status);
                                                          400 while the request is still running

Input and output follow fal's schema (`local.stand_ins.fal_schema`), sizes as "auto" or {width, height}.
A safety refusal is the model's error: the request COMPLETES and its result answers 422.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from werkzeug.wrappers import Request, Response

from local.stand_ins import fal_schema
from local.stand_ins.fal_webhooks import JWKS_PATH, WebhookSigner
from local.stand_ins.json_api import JsonStandIn, WireError, json_object, json_response
from local.stand_ins.queue import JobQueue

APP = "openai/gpt-image-2"
MODEL = f"{APP}/edit"
_REQUEST_PATH = re.compile(rf"^/{re.escape(APP)}/requests/(?P<id>[0-9a-f-]{{36}})(?P<status>/status)?$")


class FalFake(JsonStandIn):
    """fal's queue on loopback; `base_url` is what the adapter's `queue_url` takes."""

    upstream = "fal"

    answers_at_once = True

    def __init__(self, *args: Any, pending_polls: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.jobs = JobQueue(pending_polls)
        self.webhooks = WebhookSigner()

    def route(self, request: Request) -> Response:
        if request.method == "GET" and request.path == JWKS_PATH:  # public, as fal's is
            return json_response(200, self.webhooks.jwks())
        if not self.key_accepted(self.authorization_key(request, "Key")):
            raise fal_schema.detail(401, "Authentication is required: 'Authorization: Key <key>' was missing or wrong")
        if request.method == "POST" and request.path == f"/{MODEL}":
            return json_response(200, self._submit(json_object(request), request.args.get("fal_webhook")))
        match = _REQUEST_PATH.match(request.path)
        if request.method != "GET" or match is None:
            raise fal_schema.detail(404, "Not Found")
        if match["status"]:
            return self._status(match["id"])
        return self._result(match["id"])

    def _urls(self, request_id: str) -> dict[str, str]:
        response_url = f"{self.origin}/{APP}/requests/{request_id}"
        return {"response_url": response_url, "status_url": f"{response_url}/status",
                "cancel_url": f"{response_url}/cancel"}

    def _submit(self, body: dict[str, Any] | None, webhook_url: str | None) -> dict[str, Any]:
        self.record_json("queue", (body or {}).get("prompt"), body or {},
                         image_count=len((body or {}).get("image_urls") or []), size=(body or {}).get("image_size"),
                         n=(body or {}).get("num_images"), has_mask="mask_url" in (body or {}))
        edit = fal_schema.parse_edit(body, custom_sizes=True)
        fault = self.http_fault(edit.prompt, lambda status, _: {"detail": f"Service unavailable (HTTP {status})"})
        outcome: WireError | dict[str, Any]
        if fault == "safety":
            outcome = fal_schema.refusal()
        elif fault == "invalid_image":
            outcome = fal_schema.invalid("image_urls", "The image could not be decoded", "image_load_error")
        else:
            try:
                outcome = fal_schema.run_edit(self, edit)
            except WireError as exc:  # the model's own failure: reported by the result, as fal does
                outcome = exc
        job = self.jobs.add(outcome, job_id=str(uuid.uuid4()), ready_after=self.delay)
        if webhook_url:
            self.webhooks.send_later(webhook_url, job.job_id, _webhook_outcome(outcome), self.delay)
        return {"status": "IN_QUEUE", "request_id": job.job_id, "queue_position": 0, **self._urls(job.job_id)}

    def _status(self, request_id: str) -> Response:
        job = self.jobs.poll(request_id)
        if job is None:
            raise fal_schema.detail(404, "Request not found")
        urls = self._urls(request_id)
        if not job.done:
            return json_response(202, {"status": "IN_PROGRESS", "request_id": request_id,
                                       "response_url": urls["response_url"], "logs": None})
        return json_response(200, {"status": "COMPLETED", "request_id": request_id,
                                   "response_url": urls["response_url"], "logs": None, "metrics": {}})

    def _result(self, request_id: str) -> Response:
        job = self.jobs.peek(request_id)
        if job is None:
            raise fal_schema.detail(404, "Request not found")
        if not job.done:
            raise fal_schema.detail(400, "Request is still in progress")
        if isinstance(job.outcome, WireError):
            raise job.outcome
        return json_response(200, job.outcome)


def _webhook_outcome(outcome: WireError | dict[str, Any]) -> dict[str, Any]:
    """The webhook's status and payload for a request's outcome, as fal sends them."""
    if isinstance(outcome, WireError):
        return {"status": "ERROR", "error": f"Invalid status code: {outcome.status}", "payload": outcome.body}
    return {"status": "OK", "payload": outcome, "error": None}
