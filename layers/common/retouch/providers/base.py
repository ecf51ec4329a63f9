"""The image-provider port: what the worker needs from any image API, and how it fails."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from retouch.errors import CodedError


@dataclass(frozen=True)
class InputImage:
    """One input image as bytes, with its detected MIME type."""

    data: bytes
    content_type: str
    filename: str = "image"
    # Where the input is stored (S3 key), for upstreams that fetch inputs by a presigned URL; None when it is not.
    storage_key: str | None = None


@dataclass(frozen=True)
class ProviderImage:
    """One produced image: raw bytes plus the MIME type of the requested output format."""

    data: bytes
    content_type: str


@dataclass(frozen=True)
class ProviderResult:
    images: list[ProviderImage]
    usage: dict[str, Any] = field(default_factory=dict)
    # What the provider resolved `auto` values to, when it says so (size "1024x1536", quality, background).
    size: str | None = None
    quality: str | None = None
    background: str | None = None
    output_format: str | None = None


class ProviderError(CodedError):
    """Base of every failure a provider call can end in."""


class ProviderRefused(ProviderError):
    """Permanent: the provider rejected the request (invalid image, safety block, bad parameter). Never retried."""


class ProviderUnavailable(ProviderError):
    """Transient: 429, 5xx, timeout or connection failure. Retried with backoff."""

    def __init__(self, code: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(code, message)
        self.retry_after = retry_after


class ProviderAuthFailed(ProviderUnavailable):
    """The provider refused our credentials (401/403): this upstream cannot serve any job until its key is fixed,
    so retrying it is pointless; another upstream may still serve the job."""

    def __init__(self, message: str) -> None:
        super().__init__("provider_auth_failed", message)


class ImageProvider(Protocol):
    def edit(self, *, images: list[InputImage], mask: InputImage | None, options: dict[str, Any]) -> ProviderResult:
        """Edit `images` per `options` (model, prompt, n, size, quality, background, output_format,
        output_compression, moderation, user, safety_identifier)."""
        ...

    def generate(self, *, options: dict[str, Any]) -> ProviderResult:
        """Generate images per `options` (same keys as `edit`)."""
        ...
