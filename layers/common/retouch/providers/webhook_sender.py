"""POST one signed webhook event to a customer's URL without becoming an SSRF proxy.

The URL is vetted again at every attempt (`url_safety.check_url`: https, no private, loopback,
link-local or metadata addresses) and the connection goes to the vetted IP itself, with the
original Host header and TLS server name, so a second DNS answer cannot redirect it. Redirects
are never followed: a 3xx is a failed attempt like any other non-2xx. The response body is
not read.
"""

from __future__ import annotations

import socket
import httpx

from retouch.models.webhooks import SendResult
from retouch.providers.url_safety import ResolvedTarget, ResolveFn, UnsafeUrl, check_url

USER_AGENT = "Retouch-Webhooks/1.0"


class WebhookSender:
    def __init__(
        self,
        *,
        allowlist: frozenset[str] | set[str],
        timeout_seconds: float,
        require_https: bool = True,
        client: httpx.Client | None = None,
        resolve: ResolveFn = socket.getaddrinfo,
    ) -> None:
        self._allowlist = allowlist
        self._timeout = httpx.Timeout(timeout_seconds)
        self._timeout_seconds = timeout_seconds
        self._require_https = require_https
        self._client = client or httpx.Client(follow_redirects=False, trust_env=False)
        self._resolve = resolve

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
        try:
            target = check_url(url, allowlist=self._allowlist, resolve=self._resolve, require_https=self._require_https)
        except UnsafeUrl as exc:
            return SendResult(None, f"webhook URL refused: {exc.message}")
        try:
            request = self._request(target, url, body, headers)
        except httpx.InvalidURL:
            return SendResult(None, "webhook URL refused: URL could not be parsed")
        try:
            response = self._client.send(request, stream=True, follow_redirects=False)
            response.close()
        except httpx.TimeoutException:
            return SendResult(None, f"no answer within {self._timeout_seconds:g} s")
        except httpx.TransportError as exc:
            return SendResult(None, f"connection failed ({type(exc).__name__})")
        status = response.status_code
        if 200 <= status < 300:
            return SendResult(status)
        if 300 <= status < 400:
            return SendResult(status, f"HTTP {status}: redirects are not followed")
        return SendResult(status, f"HTTP {status}")

    def _request(self, target: ResolvedTarget, url: str, body: bytes, headers: dict[str, str]) -> httpx.Request:
        all_headers = {"User-Agent": USER_AGENT, "Content-Type": "application/json", **headers}
        if target.allowlisted or target.ip is None:
            return self._client.build_request("POST", url, content=body, headers=all_headers, timeout=self._timeout)
        ip_host = f"[{target.ip}]" if ":" in target.ip else target.ip
        pinned = f"{target.scheme}://{ip_host}:{target.port}{target.path}"
        all_headers["Host"] = target.host_header
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        return self._client.build_request("POST", pinned, content=body, headers=all_headers, timeout=self._timeout,
                                          extensions=extensions)
