"""ModelsLab (`gpt-image-2-i2i`): `POST https://modelslab.com/api/v7/images/image-to-image`, the key in the JSON body.

Per its documentation: `init_image` is an array of image URLs (up to 14), `size` one of its presets (square,
landscape, protrait [sic], 2K square, 2K landscape, 4K landscape, 4K protrait); no mask, no n, no quality or format
choice; $0.08 a generation, not reported in the answer. It answers `status` "success" with `output` URLs, or
"processing" with `id`, `eta` (seconds) and a `fetch_result` URL that is POSTed `{"key"}` until it succeeds;
"error"/"failed" carry a `message`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import httpx

from retouch.providers.base import InputImage, ProviderAuthFailed, ProviderRefused, ProviderResult
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
    same_origin,
)
from retouch.providers.upstream_http import UpstreamHttp, elapsed_ms, refusal_or_failure
from retouch.upstream_registry import SIZE_PRESETS, UPSTREAMS

URL = "https://modelslab.com/api/v7/images/image-to-image"
MODEL = "gpt-image-2-i2i"
UPSTREAM = "modelslab"

CAPABILITIES = UPSTREAMS[UPSTREAM].capabilities

_AUTH_WORDS = re.compile(r"api[ _-]?key|unauthori[sz]ed|not authenticated", re.IGNORECASE)
_DEFAULT_ETA = 10


class ModelsLabUpstream:
    capabilities = CAPABILITIES

    def __init__(self, *, api_key: str, presign: Presign, timeout_seconds: float, url: str = URL,
                 model: str = MODEL, client: httpx.Client | None = None, outputs: OutputUrls | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._key = api_key
        self._presign = presign
        self._url = url
        self._model = model
        self._http = UpstreamHttp(UPSTREAM, timeout_seconds=timeout_seconds, client=client, secrets=[api_key],
                                  outputs=outputs)
        self._clock = clock

    def submit(self, *, images: list[InputImage], mask: InputImage | None, options: dict[str, Any]) -> Outcome:
        check(self.capabilities, operation="edit" if images else "generation", images=images, mask=mask,
              options=options)
        size = options.get("size") or "auto"
        body = {"key": self._key, "model_id": self._model, "prompt": options["prompt"],
                "init_image": presigned_urls(self._presign, images), "size": SIZE_PRESETS[size]}
        started = self._clock()
        answer = self._http.send_json("POST", self._url, json=body)
        resolved = "1024x1024" if size == "auto" else size
        return self._outcome(answer, started=started, size=resolved)

    def poll(self, handle: PollHandle) -> Outcome:
        if not self._trusted_fetch_url(handle.status_url):  # a handle from the queue: never send the key elsewhere
            raise bad_response(UPSTREAM, "`fetch_result` is not on the configured ModelsLab origin")
        answer = self._http.send_json("POST", handle.status_url, json={"key": self._key})
        return self._outcome(answer, started=handle.submitted_at, size=handle.extra.get("size"),
                             fetch_url=handle.status_url)

    def _trusted_fetch_url(self, url: object) -> bool:
        """On the configured endpoint's own origin (scheme, host, port): the key is POSTed to this URL, so an answer
        naming another host must not get it."""
        return same_origin(url, self._url)

    def _outcome(self, answer: dict[str, Any], *, started: float, size: str | None,
                 fetch_url: str | None = None) -> Outcome:
        status = answer.get("status")
        job_id = str(answer["id"]) if answer.get("id") is not None else None
        if status == "success":
            urls = answer.get("output")
            if not isinstance(urls, list) or not urls:
                raise bad_response(UPSTREAM, "`output` has no images")
            result = ProviderResult(images=[self._http.image(url, "png") for url in urls], size=size)
            latency = elapsed_ms(started, self._clock)
            return Finished(result=result, upstream=UPSTREAM, upstream_job_id=job_id, cost_micros=None,
                            latency_ms=latency)
        if status == "processing":
            url = answer.get("fetch_result") or fetch_url
            if not isinstance(url, str) or not self._trusted_fetch_url(url) or job_id is None:
                raise bad_response(UPSTREAM, "`processing` without `id` and a `fetch_result` on the ModelsLab origin")
            eta = answer.get("eta")
            wait = int(eta) if isinstance(eta, (int, float)) and not isinstance(eta, bool) and eta > 0 else _DEFAULT_ETA
            return Pending(PollHandle(upstream=UPSTREAM, upstream_job_id=job_id, status_url=url, result_url=None,
                                      submitted_at=started, poll_after_seconds=wait,
                                      extra={"size": size} if size else {}))
        message = self._http.redact(str(answer.get("message") or answer.get("messege") or status))
        if _AUTH_WORDS.search(message):
            raise ProviderAuthFailed(f"{UPSTREAM} rejected the credentials: {message}")
        if status == "error":
            # An `error` answer is about the request (bad image URL, prompt, parameter): resending cannot help.
            refused = refusal_or_failure(UPSTREAM, message)
            raise refused if isinstance(refused, ProviderRefused) else ProviderRefused(
                "provider_rejected_request", f"{UPSTREAM} rejected the request: {message}")
        raise refusal_or_failure(UPSTREAM, message)


def from_config(config: AdapterConfig) -> ModelsLabUpstream:
    return ModelsLabUpstream(api_key=config.api_key, presign=config.presign, timeout_seconds=config.timeout_seconds,
                            url=config.base_url or URL, model=config.model, client=config.client,
                            outputs=config.outputs)
