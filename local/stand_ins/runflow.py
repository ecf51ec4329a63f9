"""Runflow's run API for `openai/gpt-image-2/edit`: synchronous, Bearer key, fal's input schema (`image_size` "auto"
only), `sync_mode` true answering data: URIs. `POST /v1/run/openai/gpt-image-2/edit` -> {"images", "request_id"}.
Errors are FastAPI's `{"detail": ...}`."""

from __future__ import annotations

import uuid

from werkzeug.wrappers import Request, Response

from local.stand_ins import fal_schema
from local.stand_ins.json_api import JsonStandIn, json_object, json_response

MODEL = "openai/gpt-image-2/edit"
RUN_PREFIX = "/v1/run"


class RunflowFake(JsonStandIn):
    """Runflow on loopback; `base_url` is what the adapter's `base_url` takes (…/v1/run)."""

    upstream = "runflow"

    api_prefix = RUN_PREFIX

    def route(self, request: Request) -> Response:
        if request.path != f"{RUN_PREFIX}/{MODEL}":
            raise fal_schema.detail(404, "Model not found")
        if request.method != "POST":
            raise fal_schema.detail(405, "Method Not Allowed")
        if not self.key_accepted(self.authorization_key(request)):
            raise fal_schema.detail(401, "Invalid or missing API key")
        body = json_object(request)
        self.record_json("run", (body or {}).get("prompt"), body or {},
                         image_count=len((body or {}).get("image_urls") or []), size=(body or {}).get("image_size"),
                         n=(body or {}).get("num_images"), has_mask="mask_url" in (body or {}))
        edit = fal_schema.parse_edit(body, custom_sizes=False)
        fault = self.http_fault(edit.prompt, lambda status, _: {"detail": f"Upstream error (HTTP {status})"})
        if fault == "safety":
            raise fal_schema.refusal()
        if fault == "invalid_image":
            raise fal_schema.invalid("image_urls", "The image could not be decoded", "image_load_error")
        return json_response(200, {**fal_schema.run_edit(self, edit), "request_id": str(uuid.uuid4())})
