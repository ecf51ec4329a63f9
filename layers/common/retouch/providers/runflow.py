"""Runflow (`openai/gpt-image-2/edit`): `POST https://api.runflow.io/v1/run/openai/gpt-image-2/edit`, Bearer key.

Per its documentation: `image_urls` (URLs), `num_images` 1-4, `mask_url`, `quality` (default high: our `auto` is
left out), `output_format`, `image_size` ("auto" is the one value it documents, so only `auto` is sent), and
`sync_mode`: true returns the images as data: URIs in the answer and keeps them out of its request history, which
is what we want (no second download, nothing left behind). Synchronous; $0.133 an image at high quality, not
reported in the answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from retouch.providers.base import InputImage
from retouch.providers.fal import checked_fal_style_body, fal_style_images
from retouch.providers.upstream import (
    AdapterConfig,
    Finished,
    Outcome,
    OutputUrls,
    Presign,
    Synchronous,
)
from retouch.providers.upstream_http import UpstreamHttp, detail_error, elapsed_ms
from retouch.upstream_registry import UPSTREAMS

BASE_URL = "https://api.runflow.io/v1/run"
MODEL = "openai/gpt-image-2/edit"
UPSTREAM = "runflow"

CAPABILITIES = UPSTREAMS[UPSTREAM].capabilities


class RunflowUpstream(Synchronous):
    capabilities = CAPABILITIES

    def __init__(self, *, api_key: str, presign: Presign, timeout_seconds: float, base_url: str = BASE_URL,
                 model: str = MODEL, client: httpx.Client | None = None, outputs: OutputUrls | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._presign = presign
        self._url = f"{base_url.rstrip('/')}/{model}"
        self._http = UpstreamHttp(UPSTREAM, timeout_seconds=timeout_seconds, client=client, secrets=[api_key],
                                  outputs=outputs)
        self._clock = clock

    def submit(self, *, images: list[InputImage], mask: InputImage | None, options: dict[str, Any]) -> Outcome:
        body = checked_fal_style_body(self.capabilities, self._presign, images=images, mask=mask, options=options,
                                      custom_sizes=False)
        body["sync_mode"] = True
        started = self._clock()
        response = self._http.ok(self._http.send("POST", self._url, headers=self._headers, json=body), detail_error)
        answer = self._http.json_object(response)
        result = fal_style_images(self._http, answer, body["output_format"])
        job_id = answer.get("request_id") or response.headers.get("x-request-id")
        return Finished(result=result, upstream=UPSTREAM, upstream_job_id=job_id if isinstance(job_id, str) else None,
                        cost_micros=None, latency_ms=elapsed_ms(started, self._clock))



def from_config(config: AdapterConfig) -> RunflowUpstream:
    return RunflowUpstream(api_key=config.api_key, presign=config.presign, timeout_seconds=config.timeout_seconds,
                          base_url=config.base_url or BASE_URL, model=config.model, client=config.client,
                          outputs=config.outputs)
