"""Partial images: previews an upstream sends while it makes the image (OpenAI's and Azure OpenAI's `stream=true`
with `partial_images`), handed to the worker as they arrive, so a waiting client sees progress (jobs/partial_frames.py).

An adapter that can stream says so (`StreamsPartials`, `streams_partials`); the others are called as usual and their
job gives only its final image, as OpenAI allows (the final image may come before the requested partials)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from retouch.providers.base import InputImage
from retouch.providers.upstream import Outcome


@dataclass(frozen=True)
class PartialImage:
    index: int  # the upstream's `partial_image_index`: 0, 1, ...
    data: bytes
    output_format: str  # png, jpeg or webp


class PartialSink(Protocol):
    """Where an adapter hands each partial as it arrives; `requested` is the job's `partial_images`."""

    requested: int

    def __call__(self, partial: PartialImage) -> None: ...


@runtime_checkable
class StreamsPartials(Protocol):
    streams_partials: bool

    def submit_streaming(self, *, images: list[InputImage], mask: InputImage | None, options: dict[str, Any],
                         partials: PartialSink) -> Outcome:
        """As `submit`, with the upstream's own streaming, each partial handed to `partials` as it arrives."""
        ...
