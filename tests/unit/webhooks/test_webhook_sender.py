"""The HTTP delivery client: outcomes per answer, no redirects followed, pinned addresses. No sockets:
httpx.MockTransport answers, a fake resolver stands in for DNS."""

from __future__ import annotations

import httpx
import pytest

from retouch.webhooks.sender import WebhookSender
from tests.fakes import public_resolver

URL = "https://hooks.example.com/retouch?x=1"
HEADERS = {"webhook-id": "evt_1", "webhook-timestamp": "1", "webhook-signature": "v1,abc"}


def sender(handler, *, resolve=None, allowlist=frozenset()) -> tuple[WebhookSender, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    client = httpx.Client(transport=httpx.MockTransport(record))
    return WebhookSender(allowlist=allowlist, timeout_seconds=10, client=client,
                         resolve=resolve or public_resolver()), seen


@pytest.mark.parametrize("status", [200, 202, 204])
def test_2xx_is_delivered(status):
    send, seen = sender(lambda r: httpx.Response(status))
    result = send.send(URL, b'{"a":1}', HEADERS)
    assert result.delivered and result.status_code == status and result.error is None
    assert len(seen) == 1


def test_the_request_is_a_json_post_pinned_to_the_vetted_address_with_the_original_host():
    # Given a host that resolves to a public address
    send, seen = sender(lambda r: httpx.Response(200), resolve=public_resolver("93.184.216.34"))
    # When an event is sent
    send.send(URL, b'{"a":1}', HEADERS)
    # Then the connection goes to that address, with the original Host, TLS name and the event headers
    [request] = seen
    assert request.method == "POST" and request.url.host == "93.184.216.34" and request.url.path == "/retouch"
    assert request.url.query == b"x=1"
    assert request.headers["host"] == "hooks.example.com"
    assert request.extensions["sni_hostname"] == "hooks.example.com"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == "evt_1" and request.content == b'{"a":1}'


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirects_are_failures_and_never_followed(status):
    send, seen = sender(lambda r: httpx.Response(status, headers={"location": "http://169.254.169.254/"}))
    result = send.send(URL, b"{}", HEADERS)
    assert not result.delivered and result.status_code == status and "not followed" in result.error
    assert len(seen) == 1


@pytest.mark.parametrize("status", [400, 404, 410, 429, 500, 503])
def test_4xx_and_5xx_are_failures_with_their_status(status):
    send, _ = sender(lambda r: httpx.Response(status))
    result = send.send(URL, b"{}", HEADERS)
    assert not result.delivered and result.status_code == status and result.error == f"HTTP {status}"


def test_a_timeout_is_a_failure_without_status():
    def slow(request):
        raise httpx.ReadTimeout("slow", request=request)

    result = sender(slow)[0].send(URL, b"{}", HEADERS)
    assert result.status_code is None and "10 s" in result.error


def test_a_connection_error_is_a_failure_without_status():
    def refused(request):
        raise httpx.ConnectError("refused", request=request)

    result = sender(refused)[0].send(URL, b"{}", HEADERS)
    assert result.status_code is None and "ConnectError" in result.error


@pytest.mark.parametrize("url, ip", [
    ("https://hooks.example.com/", "10.0.0.5"),
    ("https://hooks.example.com/", "169.254.169.254"),
    ("https://hooks.example.com/", "127.0.0.1"),
    ("https://[::1]/", None),
    ("http://hooks.example.com/", "93.184.216.34"),
])
def test_unsafe_urls_are_refused_at_delivery_without_any_request(url, ip):
    send, seen = sender(lambda r: httpx.Response(200), resolve=public_resolver(ip or "93.184.216.34"))
    result = send.send(url, b"{}", HEADERS)
    assert not result.delivered and result.error.startswith("webhook URL refused") and seen == []


def test_allowlisted_loopback_is_requested_as_is():
    send, seen = sender(lambda r: httpx.Response(200), allowlist=frozenset({"127.0.0.1"}))
    assert send.send("http://127.0.0.1:8999/hook", b"{}", HEADERS).delivered
    assert str(seen[0].url) == "http://127.0.0.1:8999/hook"
