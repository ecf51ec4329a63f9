"""fal (`openai/gpt-image-2/edit`) through its queue: submit, status, result. Key as `Authorization: Key ...`.

Submit `POST https://queue.fal.run/openai/gpt-image-2/edit` answers `request_id`, `status_url` and `response_url`
(fal asks clients to use those URLs, not to build them). `GET status_url` answers 202 `IN_QUEUE`/`IN_PROGRESS`
and 200 `COMPLETED`; `GET response_url` then answers the model's output, `images[].url` (or the model's error,
with its HTTP status). Input per its schema: `prompt`, `image_urls`, `image_size` ("auto" or {width, height}),
`quality` (low/medium/high; default high, so our `auto` is left out), `num_images`, `output_format`, `mask_url`
(OpenAI's mask: transparent = edit). Cost is billed by token and not reported in the answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from retouch.providers.base import InputImage, ProviderResult
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
from retouch.providers.upstream_http import UpstreamHttp, detail_error, elapsed_ms
from retouch.upstream_registry import UPSTREAMS, Capabilities

QUEUE_URL = "https://queue.fal.run"
MODEL = "openai/gpt-image-2/edit"
UPSTREAM = "fal"
POLL_SECONDS = 5

CAPABILITIES = UPSTREAMS[UPSTREAM].capabilities


def fal_style_input(options: dict[str, Any], image_urls: list[str], mask_url: str | None, *,
                    custom_sizes: bool) -> dict[str, Any]:
    """The input schema fal's `openai/gpt-image-2/edit` defines (Runflow resells the same endpoint and schema)."""
    size = options.get("size") or "auto"
    body: dict[str, Any] = {
        "prompt": options["prompt"], "image_urls": image_urls, "num_images": int(options.get("n") or 1),
        "output_format": options.get("output_format") or "png",
    }
    if size != "auto" and custom_sizes:
        width, height = (int(side) for side in size.split("x"))
        body["image_size"] = {"width": width, "height": height}
    else:
        body["image_size"] = "auto"
    quality = options.get("quality") or "auto"
    if quality != "auto":
        body["quality"] = quality
    if mask_url is not None:
        body["mask_url"] = mask_url
    return body


def checked_fal_style_body(capabilities: Capabilities, presign: Presign, *, images: list[InputImage],
                           mask: InputImage | None, options: dict[str, Any], custom_sizes: bool) -> dict[str, Any]:
    """The request fal's schema takes (fal and Runflow): refused before any call when the upstream can't serve it,
    the inputs as presigned URLs."""
    check(capabilities, operation="edit" if images else "generation", images=images, mask=mask, options=options)
    return fal_style_input(options, presigned_urls(presign, images), presign(mask) if mask is not None else None,
                           custom_sizes=custom_sizes)


def fal_style_images(http: UpstreamHttp, answer: dict[str, Any], output_format: str) -> ProviderResult:
    """`images[].url` (a URL, or a data: URI in sync mode) as bytes."""
    items = answer.get("images")
    if not isinstance(items, list) or not items or not all(isinstance(item, dict) for item in items):
        raise bad_response(http.upstream, "no `images` in the output")
    return ProviderResult(images=[http.image(item.get("url"), output_format) for item in items])


class FalUpstream:
    capabilities = CAPABILITIES

    def __init__(self, *, api_key: str, presign: Presign, timeout_seconds: float, queue_url: str = QUEUE_URL,
                 model: str = MODEL, client: httpx.Client | None = None, outputs: OutputUrls | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._headers = {"Authorization": f"Key {api_key}"}
        self._presign = presign
        self._queue_url = queue_url
        self._submit_url = f"{queue_url.rstrip('/')}/{model}"
        self._http = UpstreamHttp(UPSTREAM, timeout_seconds=timeout_seconds, client=client, secrets=[api_key],
                                  outputs=outputs)
        self._clock = clock

    def submit(self, *, images: list[InputImage], mask: InputImage | None, options: dict[str, Any]) -> Outcome:
        return self._submit(images=images, mask=mask, options=options, params={})

    def submit_with_callback(self, *, images: list[InputImage], mask: InputImage | None, options: dict[str, Any],
                             callback_url: str) -> Outcome:
        """fal POSTs the result to `fal_webhook` when the request is done (providers/fal_webhooks.py)."""
        return self._submit(images=images, mask=mask, options=options, params={"fal_webhook": callback_url})

    def _submit(self, *, images: list[InputImage], mask: InputImage | None, options: dict[str, Any],
                params: dict[str, str]) -> Outcome:
        body = checked_fal_style_body(self.capabilities, self._presign, images=images, mask=mask, options=options,
                                      custom_sizes=True)
        started = self._clock()
        answer = self._json("POST", self._submit_url, json=body, params=params)
        request_id, status_url, response_url = (answer.get(key) for key in ("request_id", "status_url", "response_url"))
        if not (isinstance(request_id, str) and request_id and isinstance(status_url, str) and status_url
                and isinstance(response_url, str) and response_url):
            raise bad_response(UPSTREAM, "submit answer lacks request_id, status_url or response_url")
        self._check_origin(status_url, response_url)
        return Pending(PollHandle(upstream=UPSTREAM, upstream_job_id=request_id, status_url=status_url,
                                  result_url=response_url, submitted_at=started, poll_after_seconds=POLL_SECONDS,
                                  output_format=body["output_format"]))

    def poll(self, handle: PollHandle) -> Outcome:
        result_url = handle.result_url or handle.status_url.removesuffix("/status")
        self._check_origin(handle.status_url, result_url)  # a handle from the queue: the key goes to fal only
        status = self._json("GET", handle.status_url).get("status")
        if status != "COMPLETED":
            return Pending(handle)
        answer = self._json("GET", result_url)
        result = fal_style_images(self._http, answer, handle.output_format)
        return Finished(result=result, upstream=UPSTREAM, upstream_job_id=handle.upstream_job_id, cost_micros=None,
                        latency_ms=elapsed_ms(handle.submitted_at, self._clock))

    def _check_origin(self, *urls: str) -> None:
        """The key is sent to each of `urls`: they must be on the configured queue URL's origin."""
        if not all(same_origin(url, self._queue_url) for url in urls):
            raise bad_response(UPSTREAM, "status_url or response_url is not on the configured fal queue origin")

    def _json(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        return self._http.send_json(method, url, headers=self._headers, read_error=detail_error, **kwargs)


def from_config(config: AdapterConfig) -> FalUpstream:
    return FalUpstream(api_key=config.api_key, presign=config.presign, timeout_seconds=config.timeout_seconds,
                      queue_url=config.base_url or QUEUE_URL, model=config.model, client=config.client,
                      outputs=config.outputs)
