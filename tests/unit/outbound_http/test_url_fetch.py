"""fetch_url: every hop vetted and pinned to its vetted address, body capped, errors coded."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from retouch.outbound_http.url_fetch import FetchedBody, UrlFetchError, fetch_url

PNG = b"\x89PNG\r\n\x1a\n" + b"pixels" * 10

DNS = {
    "images.example.com": ["93.184.216.34"],
    "cdn.example.net": ["151.101.1.1"],
    "other.example.org": ["198.51.99.7"],
    "rebind.example.com": ["93.184.216.40"],
    "internal.example.com": ["10.0.0.8"],
    "metadata.example.com": ["169.254.169.254"],
    "v6only.example.com": ["2606:2800:220:1:248:1893:25c8:1946"],
    "minio.internal": ["10.1.1.1"],
}


def resolve(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:
    if host not in DNS:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return [
        (socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in DNS[host]
    ]


Handler = Callable[[httpx.Request], httpx.Response]


def client_with(handler: Handler) -> tuple[httpx.Client, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    return httpx.Client(transport=httpx.MockTransport(record)), seen


def fetch(url: str, client: httpx.Client, **overrides: object) -> FetchedBody:
    options: dict[str, Any] = {
        "allowlist": frozenset(),
        "max_bytes": 1024,
        "timeout_seconds": 5.0,
        "client": client,
        "resolve": resolve,
    }
    options.update(overrides)
    return fetch_url(url, **options)


def test_fetch_pins_the_connection_to_the_vetted_address() -> None:
    # Given a public image host
    client, seen = client_with(
        lambda request: httpx.Response(200, content=PNG, headers={"Content-Type": "image/png; q=1"})
    )

    # When fetched over https
    body = fetch("https://images.example.com/cat.png?v=2", client)

    # Then the bytes come back, and the request went to the vetted IP with the real Host and SNI
    assert body == FetchedBody(data=PNG, content_type="image/png", final_url="https://images.example.com/cat.png?v=2")
    (request,) = seen
    assert str(request.url) == "https://93.184.216.34/cat.png?v=2"
    assert request.headers["host"] == "images.example.com"
    assert request.extensions["sni_hostname"] == "images.example.com"
    assert request.method == "GET"


def test_plain_http_is_pinned_without_sni_and_keeps_explicit_port_in_host() -> None:
    client, seen = client_with(lambda request: httpx.Response(200, content=PNG))
    body = fetch("http://images.example.com:8080/a.png", client)
    assert body.content_type is None
    (request,) = seen
    assert str(request.url) == "http://93.184.216.34:8080/a.png"
    assert request.headers["host"] == "images.example.com:8080"
    assert "sni_hostname" not in request.extensions


def test_ipv6_target_is_bracketed() -> None:
    client, seen = client_with(lambda request: httpx.Response(200, content=PNG))
    fetch("https://v6only.example.com/a.png", client)
    assert seen[0].url.host == "2606:2800:220:1:248:1893:25c8:1946"
    assert seen[0].headers["host"] == "v6only.example.com"


def test_allowlisted_host_is_pinned_like_any_other() -> None:
    # Given an intranet host the operator allowlisted
    client, seen = client_with(lambda request: httpx.Response(200, content=PNG))

    # When fetched
    fetch("http://minio.internal:9000/bucket/a.png", client, allowlist=frozenset({"minio.internal:9000"}))

    # Then its private address is allowed, and the connection is pinned to it with the original Host
    assert str(seen[0].url) == "http://10.1.1.1:9000/bucket/a.png"
    assert seen[0].headers["host"] == "minio.internal:9000"


@pytest.mark.parametrize(
    "url",
    [
        "http://internal.example.com/a.png",
        "http://metadata.example.com/latest/meta-data/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fd00:ec2::254]/",
        "file:///etc/passwd",
    ],
)
def test_unsafe_targets_are_forbidden_before_any_request(url: str) -> None:
    client, seen = client_with(lambda request: httpx.Response(200, content=PNG))
    with pytest.raises(UrlFetchError) as excinfo:
        fetch(url, client)
    assert excinfo.value.code == "image_url_forbidden"
    assert seen == []


@pytest.mark.parametrize("url", ["not a url", "http://user:pw@images.example.com/a.png", "//images.example.com/a"])
def test_malformed_urls_are_invalid(url: str) -> None:
    client, seen = client_with(lambda request: httpx.Response(200, content=PNG))
    with pytest.raises(UrlFetchError) as excinfo:
        fetch(url, client)
    assert excinfo.value.code == "invalid_image_url"
    assert seen == []


def test_unresolvable_host_is_unreachable() -> None:
    client, _ = client_with(lambda request: httpx.Response(200, content=PNG))
    with pytest.raises(UrlFetchError) as excinfo:
        fetch("https://no-such-host.example/a.png", client)
    assert excinfo.value.code == "image_url_unreachable"


# -- Redirects -----------------------------------------------------------------------------


def redirects(chain: dict[str, httpx.Response]) -> Handler:
    """Answer by the original host + path (the Host header survives pinning)."""

    def handler(request: httpx.Request) -> httpx.Response:
        return chain[f"{request.headers['host']}{request.url.raw_path.decode()}"]

    return handler


def test_redirects_are_followed_and_each_hop_is_vetted_and_pinned() -> None:
    # Given two redirects across hosts, one relative
    client, seen = client_with(
        redirects(
            {
                "images.example.com/a": httpx.Response(302, headers={"Location": "https://cdn.example.net/b"}),
                "cdn.example.net/b": httpx.Response(301, headers={"Location": "/c.png"}),
                "cdn.example.net/c.png": httpx.Response(200, content=PNG, headers={"Content-Type": "image/png"}),
            }
        )
    )

    # When fetched
    body = fetch("http://images.example.com/a", client)

    # Then each hop went to its own vetted IP, and final_url is the last real URL
    assert body.final_url == "https://cdn.example.net/c.png"
    assert [str(request.url) for request in seen] == [
        "http://93.184.216.34/a",
        "https://151.101.1.1/b",
        "https://151.101.1.1/c.png",
    ]
    assert seen[2].extensions["sni_hostname"] == "cdn.example.net"


def test_redirect_to_a_private_address_is_forbidden() -> None:
    client, seen = client_with(
        redirects({"images.example.com/a": httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/"})})
    )
    with pytest.raises(UrlFetchError) as excinfo:
        fetch("https://images.example.com/a", client)
    assert excinfo.value.code == "image_url_forbidden"
    assert len(seen) == 1


def test_redirect_to_a_host_resolving_privately_is_forbidden() -> None:
    client, seen = client_with(
        redirects({"images.example.com/a": httpx.Response(307, headers={"Location": "http://internal.example.com/x"})})
    )
    with pytest.raises(UrlFetchError) as excinfo:
        fetch("https://images.example.com/a", client)
    assert excinfo.value.code == "image_url_forbidden"
    assert len(seen) == 1


def test_three_redirects_are_allowed() -> None:
    client, seen = client_with(
        redirects(
            {
                "images.example.com/1": httpx.Response(302, headers={"Location": "/2"}),
                "images.example.com/2": httpx.Response(302, headers={"Location": "/3"}),
                "images.example.com/3": httpx.Response(302, headers={"Location": "/4"}),
                "images.example.com/4": httpx.Response(200, content=PNG),
            }
        )
    )
    assert fetch("https://images.example.com/1", client).final_url == "https://images.example.com/4"
    assert len(seen) == 4


def test_a_fourth_redirect_is_too_many() -> None:
    client, seen = client_with(lambda request: httpx.Response(302, headers={"Location": "/again"}))
    with pytest.raises(UrlFetchError) as excinfo:
        fetch("https://images.example.com/start", client)
    assert excinfo.value.code == "image_url_too_many_redirects"
    assert len(seen) == 4  # the original request plus three followed redirects


def test_max_redirects_zero_refuses_any_redirect() -> None:
    client, _ = client_with(lambda request: httpx.Response(301, headers={"Location": "/b"}))
    with pytest.raises(UrlFetchError) as excinfo:
        fetch("https://images.example.com/a", client, max_redirects=0)
    assert excinfo.value.code == "image_url_too_many_redirects"


def test_redirect_without_location_is_unreachable() -> None:
    client, _ = client_with(lambda request: httpx.Response(302))
    with pytest.raises(UrlFetchError) as excinfo:
        fetch("https://images.example.com/a", client)
    assert excinfo.value.code == "image_url_unreachable"


# -- Status, size, time ---------------------------------------------------------------------


@pytest.mark.parametrize("status", [304, 400, 403, 404, 500, 503])
def test_non_2xx_is_unreachable_with_the_status_in_the_message(status: int) -> None:
    client, _ = client_with(lambda request: httpx.Response(status, content=b"nope"))
    with pytest.raises(UrlFetchError) as excinfo:
        fetch("https://images.example.com/a.png", client)
    assert excinfo.value.code == "image_url_unreachable"
    assert str(status) in excinfo.value.message


def test_body_at_the_cap_is_accepted() -> None:
    client, _ = client_with(lambda request: httpx.Response(200, content=b"x" * 1024))
    assert len(fetch("https://images.example.com/a.png", client, max_bytes=1024).data) == 1024


def test_declared_length_over_the_cap_is_refused_before_reading() -> None:
    client, _ = client_with(lambda request: httpx.Response(200, content=b"x" * 2000))
    with pytest.raises(UrlFetchError) as excinfo:
        fetch("https://images.example.com/a.png", client, max_bytes=1024)
    assert excinfo.value.code == "image_url_too_large"


def test_streamed_body_is_cut_at_the_cap() -> None:
    # Given a body with no Content-Length that streams forever
    produced: list[int] = []

    def endless() -> Iterator[bytes]:
        while True:
            produced.append(1)
            yield b"y" * 256

    client, _ = client_with(lambda request: httpx.Response(200, content=endless()))

    # When / Then the download stops right after crossing the cap
    with pytest.raises(UrlFetchError) as excinfo:
        fetch("https://images.example.com/a.png", client, max_bytes=1024)
    assert excinfo.value.code == "image_url_too_large"
    assert len(produced) <= 6


def test_timeout_is_reported() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    client, _ = client_with(slow)
    with pytest.raises(UrlFetchError) as excinfo:
        fetch("https://images.example.com/a.png", client)
    assert excinfo.value.code == "image_url_timeout"


def test_total_deadline_covers_a_slow_trickle() -> None:
    # Given a server that drips bytes; the whole download has 0 seconds left after the first chunk
    def trickle() -> Iterator[bytes]:
        import time

        for _ in range(5):
            time.sleep(0.02)
            yield b"z"

    client, _ = client_with(lambda request: httpx.Response(200, content=trickle()))
    with pytest.raises(UrlFetchError) as excinfo:
        fetch("https://images.example.com/a.png", client, timeout_seconds=0.03)
    assert excinfo.value.code == "image_url_timeout"


def test_connection_errors_are_unreachable() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client, _ = client_with(refused)
    with pytest.raises(UrlFetchError) as excinfo:
        fetch("https://images.example.com/a.png", client)
    assert excinfo.value.code == "image_url_unreachable"


def test_given_client_is_not_closed() -> None:
    client, _ = client_with(lambda request: httpx.Response(200, content=PNG))
    fetch("https://images.example.com/a.png", client)
    assert client.is_closed is False


# -- Encodings and downgrades ---------------------------------------------------------------------------------


def test_the_request_asks_for_identity_bytes() -> None:
    client, seen = client_with(lambda request: httpx.Response(200, content=PNG))
    fetch("https://images.example.com/a.png", client)
    assert seen[0].headers["accept-encoding"] == "identity"


@pytest.mark.parametrize("encoding", ["gzip", "gzip, gzip", "br", "deflate", "identity, gzip", "zstd"])
def test_an_encoded_body_is_refused_before_any_of_it_is_read(encoding: str) -> None:
    # Given a server that answers with an encoding it was not asked for (a decompression bomb, say)
    read: list[int] = []

    def bomb() -> Iterator[bytes]:
        read.append(1)
        yield b"\x1f\x8b" + b"\x00" * 64

    client, _ = client_with(lambda request: httpx.Response(200, content=bomb(), headers={"Content-Encoding": encoding}))

    # When fetched
    with pytest.raises(UrlFetchError) as excinfo:
        fetch("https://images.example.com/a.png", client)

    # Then the job gets a clear code, and not one byte of the body was read (let alone decoded)
    assert excinfo.value.code == "image_url_encoding_refused"
    assert read == []


def test_identity_encoding_is_accepted() -> None:
    client, _ = client_with(lambda request: httpx.Response(200, content=PNG, headers={"Content-Encoding": "identity"}))
    assert fetch("https://images.example.com/a.png", client).data == PNG


def test_a_redirect_from_https_to_http_is_refused() -> None:
    # Given an https image that redirects to plain http
    client, seen = client_with(
        redirects({"images.example.com/a": httpx.Response(302, headers={"Location": "http://cdn.example.net/b"})})
    )

    # When fetched
    with pytest.raises(UrlFetchError) as excinfo:
        fetch("https://images.example.com/a", client)

    # Then the downgrade is refused before the second request
    assert excinfo.value.code == "image_url_forbidden" and "https to http" in excinfo.value.message
    assert len(seen) == 1


def test_a_redirect_from_http_to_https_is_followed() -> None:
    client, _ = client_with(
        redirects({
            "images.example.com/a": httpx.Response(302, headers={"Location": "https://cdn.example.net/b"}),
            "cdn.example.net/b": httpx.Response(200, content=PNG),
        })
    )
    assert fetch("http://images.example.com/a", client).final_url == "https://cdn.example.net/b"
