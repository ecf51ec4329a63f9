"""The image provider, URL fetching and DNS as the worker and webhooks see them, scripted."""

from __future__ import annotations

import io
import socket
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from retouch.providers.base import InputImage, ProviderImage, ProviderResult


def rendered(size: str = "1024x1024", output_format: str = "png", n: int = 1) -> ProviderResult:
    """A provider result with `n` real images of `size` in `output_format`."""
    width, height = (int(v) for v in size.split("x"))
    images = []
    for _ in range(n):
        buffer = io.BytesIO()
        Image.new("RGB", (width, height), (10, 120, 200)).save(buffer, format=output_format.upper())
        images.append(ProviderImage(data=buffer.getvalue(), content_type=f"image/{output_format}"))
    return ProviderResult(images=images, usage={"total_tokens": 42}, size=size, quality="low",
                          output_format=output_format)


@dataclass
class ProviderCall:
    kind: str
    options: dict[str, Any]
    images: list[InputImage] = field(default_factory=list)
    mask: InputImage | None = None


def _received(image: InputImage) -> InputImage:
    return InputImage(image.data, image.content_type, image.filename, image.storage_key)


class ScriptedProvider:
    """Answers each call with the next scripted outcome: a ProviderResult, or an exception to raise. Routed as an
    `openai` upstream through tests/fakes/routing.py's ProviderUpstream."""

    def __init__(self, *outcomes: ProviderResult | Exception) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[ProviderCall] = []

    def _next(self) -> ProviderResult:
        if not self.outcomes:
            raise AssertionError("the provider was called more often than scripted")
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def edit(self, *, images: list[InputImage], mask: InputImage | None, options: dict[str, Any]) -> ProviderResult:
        # What was received, read during the call (as a real upstream does): the worker's files close after it.
        self.calls.append(ProviderCall("edit", options, [_received(image) for image in images],
                                       _received(mask) if mask is not None else None))
        return self._next()

    def generate(self, *, options: dict[str, Any]) -> ProviderResult:
        self.calls.append(ProviderCall("generate", options))
        return self._next()


class FakeUrls:
    """`fetch_url` for the worker: bytes per URL, recording what was fetched."""

    def __init__(self, pages: dict[str, bytes] | None = None) -> None:
        self.pages = dict(pages or {})
        self.fetched: list[str] = []

    def __call__(self, url: str, seconds_left: float) -> bytes:
        self.fetched.append(url)
        return self.pages[url]


class RecordingResolver:
    """A getaddrinfo stand-in answering `addresses` for every host, recording each (host, port) it is asked."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses
        self.asked: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        self.asked.append((host, port))
        return [(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
                for address in self.addresses]


def public_resolver(ip: str = "93.184.216.34") -> RecordingResolver:
    """A getaddrinfo stand-in answering `ip` for every host."""
    return RecordingResolver(ip)
