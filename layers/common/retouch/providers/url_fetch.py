"""Download a user-supplied image URL without becoming an SSRF proxy.

Every hop (the URL and each redirect, at most `max_redirects`) is vetted by
`url_safety.check_url`, and the connection goes to the vetted IP address itself, with the
original Host header and TLS server name, so a second DNS answer cannot redirect it
(DNS rebinding). Allowlisted hosts are requested as they are. The body is streamed and
cut off at `max_bytes`; `timeout_seconds` bounds the whole download.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from retouch.providers.url_safety import ResolvedTarget, ResolveFn, UnsafeUrl, check_url

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "Retouch-ImageFetcher/1.0"

_UNSAFE_TO_FETCH_CODE = {
    "invalid_url": "invalid_image_url",
    "url_unresolvable": "image_url_unreachable",
}


class UrlFetchError(Exception):
    """The URL could not be downloaded. `code` is the API error code to report."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class FetchedBody:
    data: bytes
    content_type: str | None  # media type without parameters, lower case
    final_url: str  # the URL (after redirects) the body came from, as the user would see it


def fetch_url(
    url: str,
    *,
    allowlist: frozenset[str] | set[str],
    max_bytes: int,
    timeout_seconds: float,
    max_redirects: int = 3,
    client: httpx.Client | None = None,
    resolve: ResolveFn = socket.getaddrinfo,
    require_https: bool = False,
) -> FetchedBody:
    """GET `url` following at most `max_redirects` vetted redirects. Raises UrlFetchError."""
    deadline = time.monotonic() + timeout_seconds
    own_client = client is None
    http = client or httpx.Client(follow_redirects=False, trust_env=False)
    try:
        current = url
        for hop in range(max_redirects + 1):
            target = _vet(current, allowlist=allowlist, resolve=resolve, require_https=require_https)
            location = _get(http, target, current, deadline=deadline, max_bytes=max_bytes)
            if isinstance(location, FetchedBody):
                return location
            if hop == max_redirects:
                break
            current = urljoin(current, location)
        raise UrlFetchError("image_url_too_many_redirects", f"image URL redirected more than {max_redirects} times")
    finally:
        if own_client:
            http.close()


def _vet(url: str, *, allowlist: frozenset[str] | set[str], resolve: ResolveFn, require_https: bool) -> ResolvedTarget:
    try:
        return check_url(url, allowlist=allowlist, resolve=resolve, require_https=require_https)
    except UnsafeUrl as exc:
        code = _UNSAFE_TO_FETCH_CODE.get(exc.code, "image_url_forbidden")
        raise UrlFetchError(code, f"image URL refused: {exc.message}") from exc


def _request(http: httpx.Client, target: ResolvedTarget, url: str, timeout: float) -> httpx.Request:
    headers = {"User-Agent": USER_AGENT, "Accept": "image/*", "Accept-Encoding": "identity"}
    if target.allowlisted or target.ip is None:
        return http.build_request("GET", url, headers=headers, timeout=timeout)
    ip_host = f"[{target.ip}]" if ":" in target.ip else target.ip
    pinned = f"{target.scheme}://{ip_host}:{target.port}{target.path}"
    headers["Host"] = target.host_header
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    return http.build_request("GET", pinned, headers=headers, timeout=timeout, extensions=extensions)


def _get(http: httpx.Client, target: ResolvedTarget, url: str, *, deadline: float, max_bytes: int) -> FetchedBody | str:
    """The body, or the Location of a redirect."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise UrlFetchError("image_url_timeout", "image URL did not answer in time")
    try:
        request = _request(http, target, url, remaining)
    except httpx.InvalidURL as exc:
        raise UrlFetchError("invalid_image_url", "image URL could not be parsed") from exc
    try:
        response = http.send(request, stream=True, follow_redirects=False)
        try:
            return _read(response, deadline=deadline, max_bytes=max_bytes, url=url)
        finally:
            response.close()
    except httpx.TimeoutException as exc:
        raise UrlFetchError("image_url_timeout", "image URL did not answer in time") from exc
    except (httpx.TransportError, httpx.DecodingError) as exc:
        raise UrlFetchError("image_url_unreachable", f"image URL could not be reached ({type(exc).__name__})") from exc


def _read(response: httpx.Response, *, deadline: float, max_bytes: int, url: str) -> FetchedBody | str:
    status = response.status_code
    if status in REDIRECT_STATUSES:
        location = response.headers.get("location")
        if not location:
            raise UrlFetchError("image_url_unreachable", f"image URL answered HTTP {status} without a Location")
        return location
    if not 200 <= status < 300:
        raise UrlFetchError("image_url_unreachable", f"image URL answered HTTP {status}")

    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise UrlFetchError("image_url_too_large", f"image at URL is larger than {max_bytes} bytes")
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > max_bytes:
            raise UrlFetchError("image_url_too_large", f"image at URL is larger than {max_bytes} bytes")
        if time.monotonic() > deadline:
            raise UrlFetchError("image_url_timeout", "image URL did not finish in time")
    content_type = response.headers.get("content-type")
    if content_type:
        content_type = content_type.split(";", 1)[0].strip().lower() or None
    return FetchedBody(data=bytes(body), content_type=content_type, final_url=url)
