"""One HTTP exchange with an upstream, classified the same way for every adapter.

- 2xx: the body, read whole within the call's deadline (at most `max_response_bytes`, identity encoding).
- 401/403: ProviderAuthFailed (`provider_auth_failed`): the key is wrong; this upstream is no use until fixed.
- 408/409/425/429, 5xx, timeouts, connection failures, unusable bodies: ProviderUnavailable (retryable), with the
  wait the upstream asked for (`retry_after`: `retry-after-ms`, else `Retry-After`). 429 is `provider_rate_limited`
  and 408/409/425 `provider_retry_later` (the upstream answered: it is up, so its breaker does not count them); 5xx
  is `provider_error`.
- Any other 4xx: ProviderRefused (invalid input, safety) carrying the upstream's own message: never retried, never
  sent elsewhere.

Output images come back as URLs, data: URIs or base64; `image()` turns any of them into an image held in a temporary
file (a URL's body is spooled there as it arrives), so a job's images do not sit in the 512 MB worker's memory.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import math
import re
import tempfile
import time
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO, TypeVar

import httpx

from retouch.images.inspect import CONTENT_TYPES, sniff_format
from retouch.outbound_http.client import (
    IDENTITY_HEADERS,
    RefusedBody,
    call_deadline,
    iter_body,
    outbound_client,
    read_body,
    spool_body,
)
from retouch.outbound_http.url_safety import ResolvedTarget, UnsafeUrl, check_url, resolve_within
from retouch.providers.base import ProviderAuthFailed, ProviderImage, ProviderRefused, ProviderUnavailable
from retouch.providers.call_timeout import call_timeout
from retouch.providers.spooled_json import SpooledStrings, decode_base64_file
from retouch.providers.sse import EventTooLarge, ServerSentEvent, parse_events
from retouch.providers.upstream import OutputUrls, bad_response

MAX_RESPONSE_BYTES = 512 * 1024 * 1024
# One streamed event: a final image's base64 (a 4K PNG is tens of MB), held while it is decoded.
MAX_EVENT_BYTES = 96 * 1024 * 1024
_MAX_MESSAGE = 500
_RETRYABLE = frozenset({408, 409, 425, 429})
# Retryable answers of an upstream that is up (our request timed out in its queue, conflicted, came too early): not
# an outage for its breaker, unlike 5xx (retouch.jobs.upstream_calls.health).
_RETRY_LATER_CODES = {429: "provider_rate_limited", 408: "provider_retry_later", 409: "provider_retry_later",
                      425: "provider_retry_later"}
_DATA_URI = re.compile(r"^data:(?P<type>[\w.+-]+/[\w.+-]+)?(?:;[^,;]*)*;base64,(?P<data>.*)$", re.DOTALL)
_DATA_URI_HEAD = re.compile(rb"^data:[^,]*;base64,")
# Upstreams without error codes say "safety"/"moderation" in prose; such a refusal must not be retried elsewhere.
_SAFETY_WORDS = re.compile(r"safety|moderation|content[ _-]?policy|nsfw|inappropriate", re.IGNORECASE)

# (error code or None, message or None) from an error body, per upstream's own shape.
ErrorReader = Callable[[Any], tuple[str | None, str | None]]
_Read = TypeVar("_Read")


def refusal_or_failure(upstream: str, message: str) -> ProviderRefused | ProviderUnavailable:
    """A job the upstream ended with only a message: a safety refusal when it says so, else a failure to retry."""
    if _SAFETY_WORDS.search(message):
        return ProviderRefused("provider_safety_refusal", f"{upstream} refused the request: {message}")
    return ProviderUnavailable("provider_job_failed", f"{upstream} job failed: {message}")


def openai_error(body: Any) -> tuple[str | None, str | None]:
    """{"error": {"code", "message"}} (OpenAI and compatible gateways)."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return _text(error.get("code")), _text(error.get("message"))
    if isinstance(error, str):
        return None, error
    return None, None


def detail_error(body: Any) -> tuple[str | None, str | None]:
    """{"detail": "..."} or {"detail": [{"msg": ...}]} (FastAPI-style upstreams: fal, Runflow) or {"message"}."""
    if not isinstance(body, dict):
        return None, None
    detail = body.get("detail")
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        return _text(detail[0].get("type")), _text(detail[0].get("msg"))
    if isinstance(detail, str):
        return None, detail
    return openai_error(body) if "error" in body else (None, _text(body.get("message")))


class UpstreamHttp:
    """Calls to one upstream: each within `timeout_seconds`, secrets redacted from every message."""

    def __init__(self, upstream: str, *, timeout_seconds: float, client: httpx.Client | None,
                 secrets: Iterable[str] = (), max_response_bytes: int = MAX_RESPONSE_BYTES,
                 outputs: OutputUrls | None = None) -> None:
        self.upstream = upstream
        self._timeout = timeout_seconds
        self._client = client or outbound_client()
        self._secrets = [secret for secret in secrets if secret]
        self._max_bytes = max_response_bytes
        self._outputs = outputs or OutputUrls()

    def send(self, method: str, url: str, *, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        """One call, its body read whole within the deadline; transport failures are ProviderUnavailable."""
        request = self._client.build_request(method, url, headers={**(headers or {}), **IDENTITY_HEADERS}, **kwargs)
        response, body = self._exchange(request, lambda answer: read_body(answer, max_bytes=self._max_bytes))
        return httpx.Response(response.status_code, headers=response.headers, content=body, request=request)

    def send_spooled(self, method: str, url: str, into: BinaryIO, *, headers: dict[str, str] | None = None,
                     read_error: ErrorReader = openai_error, **kwargs: Any) -> httpx.Response:
        """One call whose 2xx body is written to `into` as it arrives (an answer carrying base64 images can be hundreds
        of MB); any other status is classified as `ok` does. The response returned has no body."""
        request = self._client.build_request(method, url, headers={**(headers or {}), **IDENTITY_HEADERS}, **kwargs)

        def read(response: httpx.Response) -> bytes:
            if 200 <= response.status_code < 300:
                spool_body(response, into, max_bytes=self._max_bytes)
                return b""
            return read_body(response, max_bytes=self._max_bytes)  # an error: small, read for its message

        response, error_body = self._exchange(request, read)
        into.seek(0)
        return self.ok(httpx.Response(response.status_code, headers=response.headers, content=error_body,
                                      request=request), read_error)

    def send_events(self, method: str, url: str, on_event: Callable[[ServerSentEvent], None], *,
                    headers: dict[str, str] | None = None, read_error: ErrorReader = openai_error,
                    max_event_bytes: int = MAX_EVENT_BYTES, **kwargs: Any) -> httpx.Response:
        """One call answered with Server-Sent Events: each event goes to `on_event` as it arrives, within the call's
        one deadline; a non-2xx answer is classified as `ok` does. The response returned has no body."""
        request = self._client.build_request(method, url, headers={**(headers or {}), **IDENTITY_HEADERS}, **kwargs)

        def read(response: httpx.Response) -> bytes:
            if not 200 <= response.status_code < 300:
                return read_body(response, max_bytes=self._max_bytes)
            try:
                for event in parse_events(iter_body(response, max_bytes=self._max_bytes),
                                          max_event_bytes=max_event_bytes):
                    on_event(event)
            except (EventTooLarge, UnicodeDecodeError) as exc:
                raise RefusedBody("too_large", f"unusable event stream: {exc}") from exc
            return b""

        response, error_body = self._exchange(request, read)
        return self.ok(httpx.Response(response.status_code, headers=response.headers, content=error_body,
                                      request=request), read_error)

    def _exchange(self, request: httpx.Request, read: Callable[[httpx.Response], _Read],
                  ) -> tuple[httpx.Response, _Read]:
        """Send `request` and `read` its streamed answer, within the deadline; the answer (closed) and what was read."""
        with call_deadline(call_timeout(self._timeout)) as deadline:
            try:
                response = self._client.send(request, stream=True)
                try:
                    result = read(response)
                finally:
                    response.close()
            except httpx.TransportError as exc:
                if isinstance(exc, httpx.TimeoutException) or deadline.passed:
                    raise ProviderUnavailable("provider_timeout", f"{self.upstream} did not answer in time") from exc
                raise ProviderUnavailable("provider_connection_error",
                                          f"could not reach {self.upstream} ({type(exc).__name__})") from exc
            except RefusedBody as exc:
                raise bad_response(self.upstream, exc.message) from exc
        return response, result

    def ok(self, response: httpx.Response, read_error: ErrorReader = openai_error) -> httpx.Response:
        """The response when it is 2xx; otherwise the classified exception."""
        status = response.status_code
        if 200 <= status < 300:
            return response
        try:
            code, message = read_error(response.json())
        except ValueError:
            code, message = None, None
        detail = self.redact(message) if message else None
        what = f"{self.upstream} answered HTTP {status}" + (f": {detail}" if detail else "")
        if status in (401, 403):
            raise ProviderAuthFailed(f"{self.upstream} rejected the credentials (HTTP {status})")
        if status in _RETRYABLE or status >= 500:
            code = _RETRY_LATER_CODES.get(status, "provider_error")
            raise ProviderUnavailable(code, what, retry_after(response.headers))
        if 400 <= status < 500:
            # The job fails with this message: the upstream's own words (a client of an OpenAI-compatible API sees
            # OpenAI's message, as it would calling OpenAI), else which upstream refused.
            raise ProviderRefused(code or "provider_rejected_request",
                                  detail or f"{self.upstream} rejected the request (HTTP {status})")
        raise ProviderUnavailable("provider_bad_response", what)

    def send_json(self, method: str, url: str, *, read_error: ErrorReader = openai_error,
                  **kwargs: Any) -> dict[str, Any]:
        """One call whose 2xx answer must be a JSON object; anything else is the classified exception."""
        return self.json_object(self.ok(self.send(method, url, **kwargs), read_error))

    def json_object(self, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError as exc:
            raise bad_response(self.upstream, "body is not JSON") from exc
        if not isinstance(body, dict):
            raise bad_response(self.upstream, "body is not a JSON object")
        return body

    def redact(self, text: str) -> str:
        text = text[:_MAX_MESSAGE]
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def image(self, reference: Any, output_format: str, strings: SpooledStrings | None = None) -> ProviderImage:
        """An output image from an http(s) URL (downloaded without our credentials), a data: URI or bare base64, held
        in a temporary file of its own (closed with the image). `strings`: the answer was parsed by `load_spooled`,
        so a long base64 string is a placeholder for the file holding it."""
        if not isinstance(reference, str) or not reference:
            raise bad_response(self.upstream, "an image has no URL or data")
        file: BinaryIO = tempfile.TemporaryFile()  # noqa: SIM115 - the image owns it (or it is closed below)
        try:
            spooled = strings.file_of(reference) if strings is not None else None
            match = _DATA_URI.match(reference) if spooled is None else None
            if spooled is not None:
                written = self._decode_file(spooled, file)
            elif reference.startswith(("https://", "http://")) and not match:
                written = self._download(reference, file)
            else:
                written = file.write(self._decode(match.group("data") if match else reference))
            if not written:
                raise bad_response(self.upstream, "an image is empty")
            file.seek(0)
            head = file.read(16)
            return ProviderImage(file=file, content_type=content_type_of(head, output_format))
        except BaseException:
            file.close()
            raise

    def _download(self, url: str, into: BinaryIO) -> int:
        """The image at `url` spooled into `into` as it arrives (never whole in memory); the bytes written. The URL is
        the upstream's word: it is vetted as an input URL is (no private, loopback, link-local or metadata address
        unless allowlisted; metadata never) and the connection pinned to the vetted address. No redirect is
        followed (a 3xx is an unusable answer)."""
        target = self._vet_output(url)
        request = self._client.build_request("GET", target.pinned_url, extensions=target.tls_extensions,
                                             headers={**IDENTITY_HEADERS, "Host": target.host_header})

        def spool(response: httpx.Response) -> int:
            if not 200 <= response.status_code < 300:
                return 0  # not read: the status says enough
            return spool_body(response, into, max_bytes=self._max_bytes)

        response, written = self._exchange(request, spool)
        if not 200 <= response.status_code < 300:
            raise bad_response(self.upstream, f"image URL answered HTTP {response.status_code}")
        return written

    def _vet_output(self, url: str) -> ResolvedTarget:
        try:
            return check_url(url, allowlist=self._outputs.allowlist,
                             resolve=self._outputs.resolve or resolve_within(self._timeout))
        except UnsafeUrl as exc:
            raise bad_response(self.upstream, f"an image URL is refused: {exc.message}") from exc

    def _decode_file(self, encoded: BinaryIO, into: BinaryIO) -> int:
        head = _DATA_URI_HEAD.match(encoded.read(256))
        encoded.seek(head.end() if head else 0)
        try:
            return decode_base64_file(encoded, into)
        except ValueError as exc:
            raise bad_response(self.upstream, "image data is not valid base64") from exc

    def _decode(self, encoded: str) -> bytes:
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise bad_response(self.upstream, "image data is not valid base64") from exc


def content_type_of(data: bytes, output_format: str) -> str:
    """The image's media type by its magic bytes, else by the format asked for."""
    return CONTENT_TYPES.get(sniff_format(data) or output_format, "application/octet-stream")


def retry_after(headers: httpx.Headers) -> float | None:
    """Seconds to wait, when the upstream says: `retry-after-ms` (milliseconds: Azure OpenAI and OpenAI send it
    beside `Retry-After`, and it is the more precise), else `Retry-After` (seconds or an HTTP date)."""
    millis = _number(headers.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000.0
    value = headers.get("retry-after")
    if not value:
        return None
    seconds = _number(value)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _number(value: str | None) -> float | None:
    """A header's non-negative finite number (negative ones as 0), or None."""
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return max(number, 0.0) if math.isfinite(number) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def elapsed_ms(started: float, clock: Callable[[], float]) -> int:
    return max(round((clock() - started) * 1000), 0)
