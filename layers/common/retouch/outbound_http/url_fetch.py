"""Download a user-supplied image URL without becoming an SSRF proxy, and without being held or inflated.

Every hop (the URL and each redirect, at most `max_redirects`) is vetted by
`url_safety.check_url`, and the connection goes to the vetted IP address itself, with the
original Host header and TLS server name, so a second DNS answer cannot redirect it
(DNS rebinding). A redirect from https to http is refused. `timeout_seconds` is one deadline for
the whole download (every DNS lookup, connect, handshake, header and body byte: see `outbound`); the
body must be identity-encoded and is cut off at `max_bytes` as it arrives.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from retouch.errors import CodedError
from retouch.outbound_http.client import (
    IDENTITY_HEADERS,
    Deadline,
    RefusedBody,
    call_deadline,
    outbound_client,
    read_body,
)
from retouch.outbound_http.url_safety import ResolvedTarget, ResolveFn, UnsafeUrl, check_url, resolve_within

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "Retouch-ImageFetcher/1.0"

_UNSAFE_TO_FETCH_CODE = {
    "invalid_url": "invalid_image_url",
    "url_unresolvable": "image_url_unreachable",
}
_REFUSED_BODY_CODE = {"encoding": "image_url_encoding_refused", "too_large": "image_url_too_large"}


class UrlFetchError(CodedError):
    """The URL could not be downloaded. `code` is the API error code to report."""


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
    resolve: ResolveFn | None = None,
    require_https: bool = False,
) -> FetchedBody:
    """GET `url` following at most `max_redirects` vetted redirects. Raises UrlFetchError.

    `resolve` stands in for DNS in tests; by default each lookup gets the time left."""
    own_client = client is None
    http = client or outbound_client()
    try:
        with call_deadline(timeout_seconds) as deadline:
            current = url
            for hop in range(max_redirects + 1):
                lookup = resolve or resolve_within(deadline.remaining())
                target = _vet(current, allowlist=allowlist, resolve=lookup, require_https=require_https)
                location = _get(http, target, current, deadline=deadline, max_bytes=max_bytes)
                if isinstance(location, FetchedBody):
                    return location
                if hop == max_redirects:
                    break
                following = urljoin(current, location)
                if _is_downgrade(current, following):
                    raise UrlFetchError("image_url_forbidden", "image URL redirected from https to http")
                current = following
            raise UrlFetchError("image_url_too_many_redirects",
                                f"image URL redirected more than {max_redirects} times")
    finally:
        if own_client:
            http.close()


def _is_downgrade(current: str, following: str) -> bool:
    return current.lower().startswith("https:") and not following.lower().startswith("https:")


def _vet(url: str, *, allowlist: frozenset[str] | set[str], resolve: ResolveFn, require_https: bool) -> ResolvedTarget:
    try:
        return check_url(url, allowlist=allowlist, resolve=resolve, require_https=require_https)
    except UnsafeUrl as exc:
        code = _UNSAFE_TO_FETCH_CODE.get(exc.code, "image_url_forbidden")
        raise UrlFetchError(code, f"image URL refused: {exc.message}") from exc


def _request(http: httpx.Client, target: ResolvedTarget) -> httpx.Request:
    headers = {"User-Agent": USER_AGENT, "Accept": "image/*", **IDENTITY_HEADERS, "Host": target.host_header}
    return http.build_request("GET", target.pinned_url, headers=headers, extensions=target.tls_extensions)


def _get(http: httpx.Client, target: ResolvedTarget, url: str, *, deadline: Deadline,
         max_bytes: int) -> FetchedBody | str:
    """The body, or the Location of a redirect."""
    try:
        request = _request(http, target)
    except httpx.InvalidURL as exc:
        raise UrlFetchError("invalid_image_url", "image URL could not be parsed") from exc
    try:
        response = http.send(request, stream=True, follow_redirects=False)
        try:
            return _read(response, max_bytes=max_bytes, url=url)
        finally:
            response.close()
    except httpx.TimeoutException as exc:
        raise UrlFetchError("image_url_timeout", "image URL did not answer in time") from exc
    except httpx.TransportError as exc:
        if deadline.passed:  # the watchdog shut the socket: that is a timeout, not a broken server
            raise UrlFetchError("image_url_timeout", "image URL did not answer in time") from exc
        raise UrlFetchError("image_url_unreachable", f"image URL could not be reached ({type(exc).__name__})") from exc


def _read(response: httpx.Response, *, max_bytes: int, url: str) -> FetchedBody | str:
    status = response.status_code
    if status in REDIRECT_STATUSES:
        location: str | None = response.headers.get("location")
        if not location:
            raise UrlFetchError("image_url_unreachable", f"image URL answered HTTP {status} without a Location")
        return location
    if not 200 <= status < 300:
        raise UrlFetchError("image_url_unreachable", f"image URL answered HTTP {status}")
    try:
        data = read_body(response, max_bytes=max_bytes)
    except RefusedBody as exc:
        limit = f"larger than {max_bytes} bytes" if exc.reason == "too_large" else "not sent as plain bytes"
        raise UrlFetchError(_REFUSED_BODY_CODE[exc.reason], f"image at URL is {limit}: {exc.message}") from exc
    content_type = response.headers.get("content-type")
    if content_type:
        content_type = content_type.split(";", 1)[0].strip().lower() or None
    return FetchedBody(data=data, content_type=content_type, final_url=url)
