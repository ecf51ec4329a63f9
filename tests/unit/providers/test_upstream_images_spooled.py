"""Output images of the non-OpenAI upstreams (fal, Oxen, Runflow, ModelsLab, AIML, Azure) reach the worker through
temporary files: an image URL's body is spooled to disk as it arrives, base64 is decoded to disk, and an
OpenAI-compatible answer is parsed with its long strings on disk. Measured with tracemalloc (every Python allocation,
not timing): the peak stays far below the image's size."""

from __future__ import annotations

import base64
import hashlib
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from retouch.providers.base import ProviderUnavailable
from retouch.providers.upstream import Finished, OutputUrls
from retouch.providers.upstream_http import UpstreamHttp
from tests.unit.providers.replay import PUBLIC_OUTPUTS, refusing_client

MB = 1024 * 1024
PNG_HEAD = b"\x89PNG\r\n\x1a\n"


def image_chunks(total: int) -> Iterator[bytes]:
    """A PNG-headed body of `total` bytes, made piece by piece (the test holds no copy of it)."""
    yield PNG_HEAD
    sent = len(PNG_HEAD)
    while sent < total:
        piece = min(64 * 1024, total - sent)
        yield bytes(piece)
        sent += piece


def digest_of(chunks: Iterator[bytes]) -> str:
    hashed = hashlib.sha256()
    for chunk in chunks:
        hashed.update(chunk)
    return hashed.hexdigest()


def cdn(total: int, status: int = 200) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        assert "authorization" not in request.headers  # the URL may be a third party's store
        return httpx.Response(status, content=image_chunks(total), headers={"content-type": "image/png"})

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_an_image_url_is_spooled_to_a_file_not_held_in_memory() -> None:
    http = UpstreamHttp("fal", timeout_seconds=30, client=cdn(24 * MB), outputs=PUBLIC_OUTPUTS)
    tracemalloc.start()
    try:
        image = http.image("https://cdn.example/out.png", "png")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    try:
        assert peak < 4 * MB, f"downloading a 24 MB image peaked at {peak / MB:.1f} MB"
        assert (image.size, image.content_type) == (24 * MB, "image/png")
        stored = image.open()
        assert digest_of(iter(lambda: stored.read(MB), b"")) == digest_of(image_chunks(24 * MB))
    finally:
        image.close()


def test_base64_and_data_uris_are_decoded_to_files_and_a_failed_download_is_retryable() -> None:
    http = UpstreamHttp("aiml", timeout_seconds=30, client=cdn(MB, status=404), outputs=PUBLIC_OUTPUTS)
    encoded = base64.b64encode(PNG_HEAD + b"pixels").decode()
    for reference in (encoded, f"data:image/png;base64,{encoded}"):
        image = http.image(reference, "webp")
        assert (image.open().read(), image.content_type) == (PNG_HEAD + b"pixels", "image/png")
        image.close()
    with pytest.raises(ProviderUnavailable, match="HTTP 404"):
        http.image("https://cdn.example/gone.png", "png")


def b64_answer(total: int) -> Iterator[bytes]:
    """An OpenAI-compatible answer carrying one `total`-byte PNG-headed image as b64_json, made piece by piece."""
    yield b'{"created": 1, "data": [{"b64_json": "'
    pending = b""
    for chunk in image_chunks(total):
        pending += chunk
        whole = len(pending) - len(pending) % 3
        yield base64.b64encode(pending[:whole])
        pending = pending[whole:]
    yield base64.b64encode(pending) + b'"}], "usage": {"total_tokens": 7}}'


def test_an_openai_compatible_answer_with_base64_images_is_parsed_and_decoded_through_files() -> None:
    from retouch.providers.aiml import aiml_upstream

    def gateway(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b64_answer(24 * MB), headers={"content-type": "application/json"})

    client = httpx.Client(transport=httpx.MockTransport(gateway))
    upstream = aiml_upstream(api_key="k", timeout_seconds=30, client=client)
    tracemalloc.start()
    try:
        finished = upstream.submit(images=[], mask=None, options={"prompt": "p", "n": 1, "output_format": "png"})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(finished, Finished)
    [image] = finished.result.images
    try:
        assert peak < 8 * MB, f"a 32 MB answer (a 24 MB image) peaked at {peak / MB:.1f} MB"
        assert (image.size, image.content_type) == (24 * MB, "image/png")
        stored = image.open()
        assert digest_of(iter(lambda: stored.read(MB), b"")) == digest_of(image_chunks(24 * MB))
        assert finished.result.usage == {"total_tokens": 7}
    finally:
        image.close()


def resolving_to(ip: str) -> Callable[..., list[tuple[Any, ...]]]:
    return lambda host, port, *args, **kwargs: [(2, 1, 6, "", (ip, port))]


@pytest.mark.parametrize(("url", "ip"), [
    ("http://169.254.169.254/latest/meta-data/iam/security-credentials/", "169.254.169.254"),  # instance metadata
    ("http://127.0.0.1:8080/admin.png", "127.0.0.1"),  # the worker's own loopback
    ("https://internal.example/out.png", "10.0.0.7"),  # a name resolving into the VPC
    ("http://[::1]/out.png", "::1"),
])
def test_an_output_url_reaching_a_private_or_metadata_address_is_refused_before_any_request(url: str, ip: str) -> None:
    # Given an upstream answering with an image URL that reaches a private, loopback or metadata address
    client, seen = refusing_client()
    http = UpstreamHttp("fal", timeout_seconds=30, client=client, outputs=OutputUrls(resolve=resolving_to(ip)))
    # When the worker turns it into an image, Then nothing is requested and the answer is unusable (retryable)
    with pytest.raises(ProviderUnavailable) as raised:
        http.image(url, "png")
    assert raised.value.code == "provider_bad_response" and "refused" in raised.value.message
    assert seen == []


def test_an_output_url_on_an_allowlisted_loopback_host_is_fetched_pinned_to_the_vetted_address() -> None:
    # Given the local stack's allowlist naming a stand-in's host:port, and its output URL by name
    seen: list[httpx.Request] = []

    def stand_in(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=PNG_HEAD + b"pixels")

    http = UpstreamHttp("oxen", timeout_seconds=30, client=httpx.Client(transport=httpx.MockTransport(stand_in)),
                        outputs=OutputUrls(allowlist=frozenset({"stand-in.localhost:9103"}),
                                           resolve=resolving_to("127.0.0.1")))
    # When the image is downloaded
    image = http.image("http://stand-in.localhost:9103/outputs/1.png", "png")
    assert image.data.startswith(PNG_HEAD)
    image.close()
    # Then the connection went to the vetted address, with the URL's own Host
    assert str(seen[0].url) == "http://127.0.0.1:9103/outputs/1.png"
    assert seen[0].headers["host"] == "stand-in.localhost:9103"
    # And the same host on another port is not allowlisted
    with pytest.raises(ProviderUnavailable):
        http.image("http://stand-in.localhost:9999/outputs/1.png", "png")
