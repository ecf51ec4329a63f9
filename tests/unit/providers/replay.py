"""Replays a recorded exchange sequence (tests/fixtures/providers/<upstream>/<name>.json) over httpx.MockTransport,
asserting each request the adapter sends matches the recorded one, in order."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import httpx

from retouch.providers.base import InputImage
from retouch.providers.upstream import OutputUrls

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "providers"
SAMPLES = {
    "png": b"\x89PNG\r\n\x1a\n" + b"png-pixels",
    "jpeg": b"\xff\xd8\xff\xe0" + b"jpeg-pixels",
    "webp": b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"webp",
}
INPUT_BUCKET = "https://retouch-inputs.s3.amazonaws.com"
PUBLIC_IP = "93.184.215.14"  # where every output host "resolves" in these tests: a public address


def public_dns(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
    """A DNS stand-in (getaddrinfo-shaped): every host is at PUBLIC_IP."""
    return [(2, 1, 6, "", (PUBLIC_IP, port))]


# Output URLs vetted as in production, resolved by `public_dns` (the unit tier has no network).
PUBLIC_OUTPUTS = OutputUrls(resolve=public_dns)


def requested_url(request: httpx.Request) -> str:
    """The URL as the adapter meant it: a download is pinned to the vetted address, its host in the Host header."""
    if request.url.host != PUBLIC_IP:
        return str(request.url)
    return f"{request.url.scheme}://{request.headers['host']}{request.url.raw_path.decode()}"


def input_image(key: str, data: bytes = SAMPLES["png"]) -> InputImage:
    return InputImage(data=data, content_type="image/png", filename=key.rsplit("/", 1)[-1], storage_key=key)


@dataclass
class FakePresigner:
    """Presigns stored inputs as the S3 client would; stages keyless ones (converted masks) and records them."""

    staged: list[InputImage] = field(default_factory=list)

    def __call__(self, image: InputImage) -> str:
        if image.storage_key is None:
            self.staged.append(image)
            return f"{INPUT_BUCKET}/staged/{len(self.staged)}.png?X-Amz-Expires=900&X-Amz-Signature=test"
        return f"{INPUT_BUCKET}/{image.storage_key}?X-Amz-Expires=900&X-Amz-Signature=test"


def _fill(text: str) -> str:
    for kind, data in SAMPLES.items():
        text = text.replace(f"<b64:{kind}>", base64.b64encode(data).decode())
    return text


def load(path: str) -> dict[str, Any]:
    return json.loads(_fill((FIXTURES / path).read_text()))


def form_parts(request: httpx.Request) -> tuple[dict[str, str], list[str]]:
    """(text fields, file field names in order) of a multipart request."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + request.content)
    fields: dict[str, str] = {}
    files: list[str] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if part.get_filename() is not None:
            files.append(name)
        else:
            fields[name] = part.get_content().strip() if isinstance(part.get_content(), str) else part.get_content()
    return fields, files


class Replay:
    """The recorded exchanges, served in order; output-image URLs served from `downloads`."""

    def __init__(self, path: str) -> None:
        recording = load(path)
        self.exchanges: list[dict[str, Any]] = list(recording["exchanges"])
        self.downloads: dict[str, str] = recording.get("downloads", {})
        self.seen: list[httpx.Request] = []
        self.client = httpx.Client(transport=httpx.MockTransport(self._handle))

    def _handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.seen.append(request)
        url = requested_url(request)
        if request.method == "GET" and url in self.downloads:
            assert "authorization" not in request.headers, "output images are fetched without our credentials"
            return httpx.Response(200, content=SAMPLES[self.downloads[url]])
        assert self.exchanges, f"unexpected extra request {request.method} {url}"
        exchange = self.exchanges.pop(0)
        self._assert_matches(exchange["request"], request)
        response = exchange["response"]
        return httpx.Response(response["status"], headers=response.get("headers", {}), json=response.get("json"))

    @staticmethod
    def _assert_matches(recorded: dict[str, Any], request: httpx.Request) -> None:
        assert request.method == recorded["method"]
        assert str(request.url) == recorded["url"]
        for name, value in recorded.get("headers", {}).items():
            assert request.headers.get(name, "").split(";")[0] == value, name
        if "json" in recorded:
            assert json.loads(request.content) == recorded["json"]
        if "form" in recorded:
            fields, files = form_parts(request)
            assert fields == recorded["form"]
            assert files == recorded["files"]

    def assert_done(self) -> None:
        assert not self.exchanges, f"{len(self.exchanges)} recorded exchanges were never requested"


def answering(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Client:
    """A client whose every request gets this one answer (error-mapping tests)."""
    return httpx.Client(transport=httpx.MockTransport(
        lambda request: httpx.Response(status, json=body, headers=headers or {})))


def refusing_client() -> tuple[httpx.Client, list[httpx.Request]]:
    """A client that records requests: tests that expect a refusal before any call assert it stays empty."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(500)

    return httpx.Client(transport=httpx.MockTransport(handle)), seen
