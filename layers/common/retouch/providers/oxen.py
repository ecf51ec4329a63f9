"""Oxen (`gpt-image-2-edit`) through its async queue: `POST https://hub.oxen.ai/api/ai/queue`, Bearer key.

Per its documentation: `input_image` is an array of image URLs; `resolution` one of auto, 1024x768, 1024x1024,
1024x1536, 1920x1080, 2560x1440, 3840x2160; `quality` auto/low/medium/high; `output_format` png/jpeg/webp;
`mask_url` a black/white image whose WHITE pixels are edited (OpenAI's masks mark the edit by transparency, so the
mask is converted and staged under a URL of its own). One image per request. The enqueue answer carries
`generations[0].generation_id`; `GET /api/ai/queue/{id}` answers `status` until succeeded (`result_url`), failed
(`error_message`) or cancelled. (Its synchronous `/api/ai/images/edit` holds the caller for the whole model call;
the queue is used instead.)
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
from PIL import Image

from retouch.providers.base import InputImage, ProviderRefused, ProviderResult, ProviderUnavailable
from retouch.providers.upstream import (
    AdapterConfig,
    Finished,
    Outcome,
    OutputUrls,
    Pending,
    PollHandle,
    Presign,
    bad_response,
    check,
    presigned_urls,
    usd_to_micros,
)
from retouch.providers.upstream_http import UpstreamHttp, elapsed_ms, refusal_or_failure
from retouch.upstream_registry import UPSTREAMS

BASE_URL = "https://hub.oxen.ai"
MODEL = "gpt-image-2-edit"
UPSTREAM = "oxen"
POLL_SECONDS = 5  # its documented polling cadence

CAPABILITIES = UPSTREAMS[UPSTREAM].capabilities
_TERMINAL_FAILURES = ("failed", "cancelled")


def white_edit_mask(alpha_mask: bytes) -> bytes:
    """OpenAI's mask (fully transparent = edit) as a black/white PNG (white = edit), the same size."""
    with Image.open(io.BytesIO(alpha_mask)) as image:
        alpha = image.convert("RGBA").getchannel("A")
    converted = alpha.point(lambda value: 255 if value == 0 else 0).convert("L")
    out = io.BytesIO()
    converted.save(out, format="PNG")
    return out.getvalue()


class OxenUpstream:
    capabilities = CAPABILITIES

    def __init__(self, *, api_key: str, presign: Presign, timeout_seconds: float, base_url: str = BASE_URL,
                 model: str = MODEL, client: httpx.Client | None = None, outputs: OutputUrls | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._presign = presign
        self._base = base_url.rstrip("/")
        self._model = model
        self._http = UpstreamHttp(UPSTREAM, timeout_seconds=timeout_seconds, client=client, secrets=[api_key],
                                  outputs=outputs)
        self._clock = clock

    def submit(self, *, images: list[InputImage], mask: InputImage | None, options: dict[str, Any]) -> Outcome:
        check(self.capabilities, operation="edit" if images else "generation", images=images, mask=mask,
              options=options)
        output_format = options.get("output_format") or "png"
        body: dict[str, Any] = {
            "model": self._model, "prompt": options["prompt"], "input_image": presigned_urls(self._presign, images),
            "resolution": options.get("size") or "auto", "quality": options.get("quality") or "auto",
            "output_format": output_format,
        }
        if mask is not None:
            body["mask_url"] = self._presign(
                InputImage(data=white_edit_mask(mask.data), content_type="image/png", filename="mask.png",
                           staging_prefix=mask.staging_prefix))
        started = self._clock()
        answer = self._http.send_json("POST", f"{self._base}/api/ai/queue", headers=self._headers, json=body)
        generations = answer.get("generations")
        first = generations[0] if isinstance(generations, list) and generations else None
        job_id = first.get("generation_id") if isinstance(first, dict) else None
        if not isinstance(job_id, str) or not job_id:
            raise bad_response(UPSTREAM, "no `generations[0].generation_id`")
        return Pending(PollHandle(
            upstream=UPSTREAM, upstream_job_id=job_id, status_url=f"{self._base}/api/ai/queue/{quote(job_id, safe='')}",
            result_url=None, submitted_at=started, poll_after_seconds=POLL_SECONDS, output_format=output_format))

    def poll(self, handle: PollHandle) -> Outcome:
        answer = self._http.send_json("GET", handle.status_url, headers=self._headers)
        status = answer.get("status")
        if status == "succeeded":
            image = self._http.image(answer.get("result_url"), handle.output_format)
            latency = elapsed_ms(handle.submitted_at, self._clock)
            return Finished(result=ProviderResult(images=[image]), upstream=UPSTREAM,
                            upstream_job_id=handle.upstream_job_id, cost_micros=usd_to_micros(answer.get("cost")),
                            latency_ms=latency)
        if status in _TERMINAL_FAILURES:
            message = self._http.redact(str(answer.get("error_message") or f"generation {status}"))
            failure: ProviderRefused | ProviderUnavailable = refusal_or_failure(UPSTREAM, message)
            raise failure
        return Pending(handle)


def from_config(config: AdapterConfig) -> OxenUpstream:
    return OxenUpstream(api_key=config.api_key, presign=config.presign, timeout_seconds=config.timeout_seconds,
                       base_url=config.base_url or BASE_URL, model=config.model, client=config.client,
                       outputs=config.outputs)
