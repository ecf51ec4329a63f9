"""The image-provider port over the OpenAI images API (`/images/edits`, `/images/generations`).

Any server speaking that API works: OpenAI itself, a compatible gateway, or the local fake.
HTTP failures become the port's two exceptions: ProviderRefused (permanent, never retried)
and ProviderUnavailable (transient, retried by the caller with backoff). Each HTTP call has one
deadline (`timeout_seconds`, headers and body included) and an identity body of at most
`max_response_bytes` (see `outbound`).
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import time
from typing import Any

import httpx

from retouch.images.inspect import CONTENT_TYPES, sniff_format
from retouch.outbound_http.client import IDENTITY_HEADERS, RefusedBody, call_deadline, outbound_client, read_body
from retouch.providers.base import (
    InputImage,
    ProviderAuthFailed,
    ProviderImage,
    ProviderRefused,
    ProviderResult,
    ProviderUnavailable,
)

_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
_REFUSED_STATUSES = frozenset({400, 404, 422})
_AUTH_STATUSES = frozenset({401, 403})
_RETRYABLE_STATUSES = frozenset({408, 409, 425, 429})
_MAX_ERROR_MESSAGE = 500


# Ten b64_json images at the largest size are ~350 MB of JSON; more than this is not an answer to use.
MAX_RESPONSE_BYTES = 512 * 1024 * 1024


class OpenAIImagesProvider:
    """ImageProvider over an OpenAI-compatible images API. `base_url` ends at the version ("…/v1")."""

    upstream = "openai"  # the `upstream` dimension of its metrics

    def __init__(
        self,
        base_url: str,
        api_key: str,
        timeout_seconds: float,
        client: httpx.Client | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._timeout_seconds = timeout_seconds
        self._max_response_bytes = max_response_bytes
        self._owns_client = client is None
        self._client = client or outbound_client()

    def close(self) -> None:
        """Close the HTTP client if this provider created it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> OpenAIImagesProvider:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def edit(self, *, images: list[InputImage], mask: InputImage | None, options: dict[str, Any]) -> ProviderResult:
        files = [("image[]", _file_part(image)) for image in images]
        if mask is not None:
            files.append(("mask", _file_part(mask)))
        fields = {key: _form_value(value) for key, value in options.items() if value is not None}
        response = self._post("/images/edits", data=fields, files=files)
        return self._parse(response, options)

    def generate(self, *, options: dict[str, Any]) -> ProviderResult:
        body = {key: value for key, value in options.items() if value is not None}
        response = self._post("/images/generations", json=body)
        return self._parse(response, options)

    # -- HTTP -------------------------------------------------------------------------------

    def _post(self, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"}
        response = self._send("POST", f"{self._base_url}{path}", headers=headers, **kwargs)
        status = response.status_code
        if 200 <= status < 300:
            return response
        raise self._error_for(response)

    def _send(self, method: str, url: str, *, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        """One call, read whole within its deadline; the returned response holds the body in memory."""
        request = self._client.build_request(method, url, headers={**(headers or {}), **IDENTITY_HEADERS}, **kwargs)
        with call_deadline(self._timeout_seconds) as deadline:
            try:
                response = self._client.send(request, stream=True)
                try:
                    body = read_body(response, max_bytes=self._max_response_bytes)
                finally:
                    response.close()
            except httpx.TransportError as exc:
                if isinstance(exc, httpx.TimeoutException) or deadline.passed:
                    raise ProviderUnavailable("provider_timeout", "image provider did not answer in time") from exc
                raise ProviderUnavailable(
                    "provider_connection_error", f"could not reach the image provider ({type(exc).__name__})"
                ) from exc
            except RefusedBody as exc:
                raise _bad_response(exc.message) from exc
        return httpx.Response(response.status_code, headers=response.headers, content=body, request=request)

    def _error_for(self, response: httpx.Response) -> Exception:
        status = response.status_code
        code, message = _error_body(response)
        detail = self._redact(message) if message else None
        if status in _REFUSED_STATUSES:
            return _refused(status, code, detail)
        if status in _AUTH_STATUSES:
            return ProviderAuthFailed(f"image provider rejected the credentials (HTTP {status})")
        retry_after = _retry_after(response.headers)
        suffix = f": {detail}" if detail else ""
        if status in _RETRYABLE_STATUSES:
            reason = "provider_rate_limited" if status == 429 else "provider_error"
            return ProviderUnavailable(reason, f"image provider answered HTTP {status}{suffix}", retry_after)
        if status >= 500:
            return ProviderUnavailable("provider_error", f"image provider answered HTTP {status}{suffix}", retry_after)
        if 400 <= status < 500:  # 405, 413, 415, ...: resending the same request cannot help
            return _refused(status, code, detail)
        return ProviderUnavailable("provider_bad_response", f"image provider answered HTTP {status}")

    def _redact(self, text: str) -> str:
        text = text[:_MAX_ERROR_MESSAGE]
        return text.replace(self._api_key, "***") if self._api_key else text

    # -- Response ---------------------------------------------------------------------------

    def _parse(self, response: httpx.Response, options: dict[str, Any]) -> ProviderResult:
        try:
            body = response.json()
        except ValueError as exc:
            raise _bad_response("body is not JSON") from exc
        if not isinstance(body, dict):
            raise _bad_response("body is not a JSON object")
        items = body.get("data")
        if not isinstance(items, list) or not items or not all(isinstance(item, dict) for item in items):
            raise _bad_response("no images in `data`")

        output_format = _str_or_none(body.get("output_format")) or _str_or_none(options.get("output_format")) or "png"
        images = [self._image(item, output_format) for item in items]
        usage = body.get("usage")
        return ProviderResult(
            images=images,
            usage=usage if isinstance(usage, dict) else {},
            size=_str_or_none(body.get("size")),
            quality=_str_or_none(body.get("quality")),
            background=_str_or_none(body.get("background")),
            output_format=_str_or_none(body.get("output_format")),
        )

    def _image(self, item: dict[str, Any], output_format: str) -> ProviderImage:
        encoded, url = item.get("b64_json"), item.get("url")
        if isinstance(encoded, str) and encoded:
            try:
                data = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise _bad_response("`b64_json` is not valid base64") from exc
        elif isinstance(url, str) and url:
            data = self._download(url)
        else:
            raise _bad_response("image has neither `b64_json` nor `url`")
        if not data:
            raise _bad_response("image is empty")
        sniffed = sniff_format(data)
        fmt = sniffed or ("jpeg" if output_format == "jpg" else output_format)
        return ProviderImage(data=data, content_type=CONTENT_TYPES.get(fmt, "application/octet-stream"))

    def _download(self, url: str) -> bytes:
        # No Authorization header: the URL may point at a third-party store.
        try:
            valid = httpx.URL(url).scheme in ("http", "https")
        except httpx.InvalidURL:
            valid = False
        if not valid:
            raise _bad_response("image `url` is not an http(s) URL")
        response = self._send("GET", url)
        if not 200 <= response.status_code < 300:
            raise _bad_response(f"image `url` answered HTTP {response.status_code}")
        return response.content


def _file_part(image: InputImage) -> tuple[str, bytes, str]:
    filename = image.filename or "image"
    if "." not in filename and image.content_type in _EXTENSIONS:
        filename = f"{filename}.{_EXTENSIONS[image.content_type]}"
    return filename, image.data, image.content_type


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _refused(status: int, code: str | None, detail: str | None) -> ProviderRefused:
    return ProviderRefused(
        code or "provider_rejected_request", detail or f"image provider rejected the request (HTTP {status})"
    )


def _bad_response(reason: str) -> ProviderUnavailable:
    return ProviderUnavailable("provider_bad_response", f"image provider sent an unusable response: {reason}")


def _error_body(response: httpx.Response) -> tuple[str | None, str | None]:
    """(`error.code`, `error.message`) of an OpenAI-shaped error body, when there is one."""
    try:
        body = response.json()
    except ValueError:
        return None, None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, None
    return _str_or_none(error.get("code")), _str_or_none(error.get("message"))


def _retry_after(headers: httpx.Headers) -> float | None:
    """Seconds to wait, from `retry-after-ms` or `Retry-After` (seconds or an HTTP date)."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(float(millis) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(when.timestamp() - time.time(), 0.0)
