"""POST one signed webhook event to a customer's URL without becoming an SSRF proxy, and without being held.

The URL is vetted again at every attempt (`url_safety.check_url`: https, no private, loopback,
link-local or metadata addresses) and the connection goes to the vetted IP itself, with the
original Host header and TLS server name, so a second DNS answer cannot redirect it. Redirects
are never followed: a 3xx is a failed attempt like any other non-2xx. `timeout_seconds` bounds the
attempt as a whole (DNS, connect, TLS, sending, the status line and headers: see `outbound`), so a
receiver dripping its answer fails the attempt at the deadline. The response body is never read, so
its encoding and size cannot matter; identity is asked for all the same.
"""

from __future__ import annotations

import httpx

from retouch.models.webhooks import SendResult
from retouch.outbound_http.client import IDENTITY_HEADERS, call_deadline, outbound_client
from retouch.outbound_http.url_safety import ResolvedTarget, ResolveFn, UnsafeUrl, check_url, resolve_within

USER_AGENT = "Retouch-Webhooks/1.0"


class WebhookSender:
    def __init__(
        self,
        *,
        allowlist: frozenset[str] | set[str],
        timeout_seconds: float,
        require_https: bool = True,
        client: httpx.Client | None = None,
        resolve: ResolveFn | None = None,
    ) -> None:
        self._allowlist = allowlist
        self._timeout_seconds = timeout_seconds
        self._require_https = require_https
        self._client = client or outbound_client()
        self._resolve = resolve  # None: real DNS, within the attempt's deadline

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
        """One attempt, over within `timeout_seconds` whatever the receiver does."""
        with call_deadline(self._timeout_seconds) as deadline:
            resolve = self._resolve or resolve_within(deadline.remaining())
            try:
                target = check_url(url, allowlist=self._allowlist, resolve=resolve, require_https=self._require_https)
            except UnsafeUrl as exc:
                return SendResult(None, f"webhook URL refused: {exc.message}")
            try:
                request = self._request(target, body, headers)
            except httpx.InvalidURL:
                return SendResult(None, "webhook URL refused: URL could not be parsed")
            try:
                response = self._client.send(request, stream=True, follow_redirects=False)
                response.close()
            except httpx.TransportError as exc:
                if isinstance(exc, httpx.TimeoutException) or deadline.passed:
                    return SendResult(None, f"no answer within {self._timeout_seconds:g} s")
                return SendResult(None, f"connection failed ({type(exc).__name__})")
        status = response.status_code
        if 200 <= status < 300:
            return SendResult(status)
        if 300 <= status < 400:
            return SendResult(status, f"HTTP {status}: redirects are not followed")
        return SendResult(status, f"HTTP {status}")

    def _request(self, target: ResolvedTarget, body: bytes, headers: dict[str, str]) -> httpx.Request:
        all_headers = {"User-Agent": USER_AGENT, "Content-Type": "application/json", **IDENTITY_HEADERS, **headers,
                       "Host": target.host_header}
        return self._client.build_request("POST", target.pinned_url, content=body, headers=all_headers,
                                          extensions=target.tls_extensions)
