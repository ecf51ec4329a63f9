"""OpenAI's images API, the one implementation of its wire format: multipart `/images/edits` with `image[]` files,
JSON `/images/generations`, answers `data[].b64_json` or `data[].url`, errors `{"error": {"code", "message"}}`.

OpenAI itself and the upstreams that speak its API with their own URL, auth header, model names and field subset
(Azure OpenAI, AIML API) are each a `Dialect` of this one adapter (retouch/providers/openai.py, azure_openai.py,
aiml.py), over the HTTP stack every upstream shares (upstream_http.py: one error classification, one
`retry-after-ms`/`Retry-After` rule). The answer (base64 images, possibly hundreds of MB) is spooled to a file and
its long strings to files of their own, so the 512 MB worker never holds it whole.
"""

from __future__ import annotations

import base64
import binascii
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

import httpx

from retouch.providers.base import InputImage, ProviderError, ProviderRefused, ProviderResult, ProviderUnavailable
from retouch.providers.partials import PartialImage, PartialSink
from retouch.providers.spooled_json import SpooledStrings, load_spooled
from retouch.providers.sse import ServerSentEvent
from retouch.providers.upstream import Finished, Outcome, Synchronous, bad_response, check
from retouch.providers.upstream_http import UpstreamHttp, elapsed_ms
from retouch.upstream_registry import Capabilities

_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


@dataclass(frozen=True)
class Dialect:
    """How one OpenAI-compatible upstream differs from OpenAI."""

    url_for: Callable[[str], str]  # "/images/edits" -> the full URL
    headers: dict[str, str]  # auth
    fields: frozenset[str] | None  # request fields it documents; others are not sent (None: every field, `model` too)
    model: str | None  # the `model` value to send in place of the request's (None: the request's, when sent)
    omit_auto: frozenset[str] = frozenset()  # fields whose `auto` it does not accept: left out for its default
    defaults: dict[str, str] | None = None  # what it resolves a left-out field to (documented defaults)
    cost: Callable[[dict[str, Any]], int | None] = lambda body: None
    job_id_headers: tuple[str, ...] = ("x-request-id",)
    streams: bool = False  # it takes `stream=true` with `partial_images` (OpenAI's and Azure's image streaming)


class OpenAIImagesUpstream(Synchronous):
    """An UpstreamAdapter (synchronous) over OpenAI's images API, as `dialect` speaks it."""

    def __init__(self, capabilities: Capabilities, dialect: Dialect, http: UpstreamHttp,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.capabilities = capabilities
        self._dialect = dialect
        self._http = http
        self._clock = clock

    @property
    def streams_partials(self) -> bool:
        return self._dialect.streams

    def submit(self, *, images: list[InputImage], mask: InputImage | None, options: dict[str, Any]) -> Outcome:
        operation = "edit" if images else "generation"
        check(self.capabilities, operation=operation, images=images, mask=mask, options=options)
        fields = self._fields(options)
        started = self._clock()
        request = _request(images, mask, fields)
        with tempfile.TemporaryFile() as body:
            response = self._post("/images/generations" if not images else "/images/edits", body, **request)
            strings = SpooledStrings()
            try:
                return self._finished(response, self._parsed(body, strings), strings, fields, started)
            finally:
                strings.close()

    def submit_streaming(self, *, images: list[InputImage], mask: InputImage | None, options: dict[str, Any],
                         partials: PartialSink) -> Outcome:
        """`stream=true`: partial images go to `partials` as they arrive; `completed` events carry the images and
        `usage` (which counts the partials' output tokens, as the upstream bills them); an `error` event is
        classified as an error answer is."""
        operation = "edit" if images else "generation"
        check(self.capabilities, operation=operation, images=images, mask=mask, options=options)
        fields = {**self._fields(options), "stream": True, "partial_images": partials.requested}
        started = self._clock()
        stream = _StreamedAnswer(self.capabilities.upstream, fields.get("output_format") or "png", partials)
        headers = {**self._dialect.headers, "Accept": "text/event-stream"}
        response = self._http.send_events("POST", self._dialect.url_for("/images/edits" if images else
                                                                        "/images/generations"),
                                          stream.take, headers=headers, **_request(images, mask, fields))
        body = stream.answer()
        strings = SpooledStrings()
        try:
            return self._finished(response, body, strings, fields, started)
        finally:
            strings.close()

    def _fields(self, options: dict[str, Any]) -> dict[str, Any]:
        dialect = self._dialect
        fields = {key: value for key, value in options.items()
                  if (dialect.fields is None or key in dialect.fields) and value is not None
                  and not (key in dialect.omit_auto and value == "auto")}
        if dialect.model is not None:
            fields["model"] = dialect.model
        return fields

    def _post(self, path: str, into: BinaryIO, **kwargs: Any) -> httpx.Response:
        headers = {**self._dialect.headers, "Accept": "application/json"}
        return self._http.send_spooled("POST", self._dialect.url_for(path), into, headers=headers, **kwargs)

    def _parsed(self, body: BinaryIO, strings: SpooledStrings) -> dict[str, Any]:
        try:
            parsed = load_spooled(body, strings)
        except ValueError as exc:
            raise bad_response(self.capabilities.upstream, "body is not JSON") from exc
        if not isinstance(parsed, dict):
            raise bad_response(self.capabilities.upstream, "body is not a JSON object")
        return parsed

    def _finished(self, response: httpx.Response, body: dict[str, Any], strings: SpooledStrings,
                  fields: dict[str, Any], started: float) -> Finished:
        items = body.get("data")
        if not isinstance(items, list) or not items or not all(isinstance(item, dict) for item in items):
            raise bad_response(self.capabilities.upstream, "no images in `data`")
        output_format = _str(body.get("output_format")) or fields.get("output_format") or "png"
        images = []
        try:
            for item in items:
                images.append(self._http.image(item.get("b64_json") or item.get("url"), output_format, strings))
        except BaseException:
            for image in images:
                image.close()
            raise
        usage = body.get("usage")
        resolved = {**(self._dialect.defaults or {}), **{k: v for k, v in fields.items() if isinstance(v, str)}}
        result = ProviderResult(
            images=images, usage=usage if isinstance(usage, dict) else {},
            size=_str(body.get("size")) or _concrete(resolved.get("size")),
            quality=_str(body.get("quality")) or _concrete(resolved.get("quality")),
            background=_str(body.get("background")), output_format=_str(body.get("output_format")),
        )
        job_id = next((response.headers[name] for name in self._dialect.job_id_headers if name in response.headers),
                      None)
        return Finished(result=result, upstream=self.capabilities.upstream, upstream_job_id=job_id,
                        cost_micros=self._dialect.cost(body), latency_ms=elapsed_ms(started, self._clock))


def _request(images: list[InputImage], mask: InputImage | None, fields: dict[str, Any]) -> dict[str, Any]:
    """httpx's arguments: multipart with `image[]` files for an edit, JSON for a generation."""
    if not images:
        return {"json": fields}
    files = [("image[]", _file_part(image)) for image in images]
    if mask is not None:
        files.append(("mask", _file_part(mask)))
    form = {key: str(value).lower() if isinstance(value, bool) else str(value) for key, value in fields.items()}
    return {"data": form, "files": files}


class _StreamedAnswer:
    """The events of one streamed call, folded into the body a non-streamed call answers (`data`, `usage`, ...)."""

    def __init__(self, upstream: str, output_format: str, partials: PartialSink) -> None:
        self._upstream = upstream
        self._output_format = output_format
        self._partials = partials
        self._completed: list[dict[str, Any]] = []

    def take(self, event: ServerSentEvent) -> None:
        try:
            data = json.loads(event.data)
        except ValueError as exc:
            raise bad_response(self._upstream, "an event's data is not JSON") from exc
        if not isinstance(data, dict):
            raise bad_response(self._upstream, "an event's data is not a JSON object")
        kind = data.get("type") or event.event or ""
        if event.event == "error" or kind == "error" or "error" in data:
            raise _stream_error(self._upstream, data)
        if kind.endswith(".partial_image"):
            self._partial(data)
        elif kind.endswith(".completed"):
            self._completed.append(data)

    def _partial(self, data: dict[str, Any]) -> None:
        encoded, index = data.get("b64_json"), data.get("partial_image_index")
        if not isinstance(encoded, str) or not isinstance(index, int) or isinstance(index, bool):
            raise bad_response(self._upstream, "a partial image has no b64_json or index")
        try:
            image = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise bad_response(self._upstream, "a partial image is not valid base64") from exc
        self._partials(PartialImage(index=index, data=image,
                                    output_format=_str(data.get("output_format")) or self._output_format))

    def answer(self) -> dict[str, Any]:
        if not self._completed:
            raise bad_response(self._upstream, "the stream ended without a completed image")
        last = self._completed[-1]
        body: dict[str, Any] = {"data": [{"b64_json": item.get("b64_json")} for item in self._completed]}
        for name in ("usage", "size", "quality", "background", "output_format"):
            if name in last:
                body[name] = last[name]
        return body


def _stream_error(upstream: str, data: dict[str, Any]) -> ProviderError:
    """An `error` event, classified as the same error answered with a status would be: a refusal of the request
    (moderation, invalid input) is never retried; anything else may be retried elsewhere."""
    nested = data.get("error")
    error: dict[str, Any] = nested if isinstance(nested, dict) else data
    code = _str(error.get("code")) or _str(error.get("type"))
    message = _str(error.get("message")) or f"{upstream} ended the stream with an error"
    if code is not None and (code in _REFUSAL_CODES or error.get("type") == "invalid_request_error"):
        return ProviderRefused(code, message)
    return ProviderUnavailable("provider_error", f"{upstream} stream failed: {message}")


# Codes of an error event that refuse the request itself (OpenAI's words), not a failure to serve it.
_REFUSAL_CODES = frozenset({"moderation_blocked", "content_policy_violation", "invalid_image_format",
                            "image_generation_user_error"})


def _file_part(image: InputImage) -> tuple[str, BinaryIO, str]:
    filename = image.filename or "image"
    if "." not in filename and image.content_type in _EXTENSIONS:
        filename = f"{filename}.{_EXTENSIONS[image.content_type]}"
    return filename, image.open(), image.content_type


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _concrete(value: str | None) -> str | None:
    return None if value in (None, "auto") else value
