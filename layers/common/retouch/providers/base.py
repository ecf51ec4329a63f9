"""What crosses the upstream port (retouch.providers.upstream): input and output images, a call's result, and the
three ways a call fails."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from retouch.errors import CodedError


class ImageContent:
    """An image's bytes, held in memory (`data`) or in a local file (`file`). The worker keeps inputs and outputs in
    files under /tmp (Lambda's ephemeral storage, not its memory), so a job's memory does not grow with its images;
    the file is this object's own and is closed by `close()`."""

    def __init__(self, data: bytes | None = None, *, file: BinaryIO | None = None) -> None:
        if (data is None) == (file is None):
            raise TypeError("an image is either `data` or a `file`")
        self._data = data
        self._file = file

    @property
    def data(self) -> bytes:
        """All the bytes in memory: only for upstreams that must embed the image (base64 in JSON, a mask redrawn)."""
        if self._data is not None:
            return self._data
        return self.open().read()

    @property
    def size(self) -> int:
        if self._data is not None:
            return len(self._data)
        return self._held_file().seek(0, io.SEEK_END)

    def open(self) -> BinaryIO:
        """The bytes as a binary file at its start (the held file itself: read it before the next `open`)."""
        if self._data is not None:
            return io.BytesIO(self._data)
        held = self._held_file()
        held.seek(0)
        return held

    def _held_file(self) -> BinaryIO:
        if self._file is None:  # the constructor takes exactly one of data and file
            raise ValueError("image holds neither bytes nor a file")
        return self._file

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    def _described(self) -> tuple[Any, ...]:
        return (self.data, *(value for name, value in sorted(vars(self).items()) if name not in ("_data", "_file")))

    def __eq__(self, other: object) -> bool:
        """Same type, bytes and attributes (wherever the bytes are held)."""
        if type(other) is not type(self) or not isinstance(other, ImageContent):
            return NotImplemented
        return self._described() == other._described()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        where = f"{len(self._data)} bytes" if self._data is not None else "a file"
        return f"{type(self).__name__}({where}, {getattr(self, 'content_type', '')!r})"


class InputImage(ImageContent):
    """One input image with its detected MIME type."""

    def __init__(self, data: bytes | None = None, content_type: str = "application/octet-stream",
                 filename: str = "image", storage_key: str | None = None, *, file: BinaryIO | None = None,
                 staging_prefix: str | None = None) -> None:
        super().__init__(data, file=file)
        self.content_type = content_type
        self.filename = filename
        # Where the input is stored (S3 key), for upstreams that fetch inputs by a presigned URL; None when it is not.
        self.storage_key = storage_key
        # Where a copy goes when such an upstream needs a URL for an input with no key (fetched from a URL, converted):
        # under its job's own prefix, so deleting the job (or its prefix expiring) deletes the copy too.
        self.staging_prefix = staging_prefix


class ProviderImage(ImageContent):
    """One produced image, with the MIME type of the requested output format."""

    def __init__(self, data: bytes | None = None, content_type: str = "application/octet-stream", *,
                 file: BinaryIO | None = None) -> None:
        super().__init__(data, file=file)
        self.content_type = content_type


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
