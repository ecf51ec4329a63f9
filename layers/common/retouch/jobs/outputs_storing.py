"""Storing the images an upstream answered with, as the job's outputs, and what the answer resolved."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from retouch.images.inspect import UnreadableImage as UnreadableOutput
from retouch.images.inspect import inspect_image
from retouch.jobs.retention import outputs_prefix
from retouch.models.records import JobRecord, StoredOutput
from retouch.ports import ObjectStore
from retouch.providers.base import ProviderImage, ProviderResult, ProviderUnavailable

# Puts of one answer's images at once (n is at most 10): their uploads overlap instead of queueing.
MAX_CONCURRENT_PUTS = 4


def store_outputs(job: JobRecord, token: str, result: ProviderResult, store: ObjectStore) -> list[StoredOutput]:
    """Keys carry the claim's token: a worker that lost its claim can delete what it wrote without touching the
    outputs of the worker that took over. Several images are stored concurrently; the outputs keep the answer's
    order, and the first failure is raised once every put has ended (what was stored is found and deleted by the
    next claim, as after a crash)."""
    def stored(index: int, image: ProviderImage) -> StoredOutput:
        try:
            info = inspect_image(image.open())
        except UnreadableOutput as exc:  # a truncated or garbled answer: transient, like any bad response
            raise ProviderUnavailable("provider_bad_response", f"image {index} is unreadable: {exc}") from exc
        # No account id in the key: presigned URLs carry it to whoever the customer shares them with.
        key = f"{outputs_prefix(job.job_id)}{token}-{index}.{'jpg' if info.format == 'jpeg' else info.format}"
        store.put(key, image.open(), info.content_type)
        return StoredOutput(key=key, content_type=info.content_type, bytes=image.size,
                            width=info.width, height=info.height, has_alpha=info.has_alpha)

    images = list(enumerate(result.images))
    if len(images) <= 1:
        return [stored(index, image) for index, image in images]
    with ThreadPoolExecutor(min(len(images), MAX_CONCURRENT_PUTS), thread_name_prefix="put-output") as pool:
        futures = [pool.submit(stored, index, image) for index, image in images]
    return [future.result() for future in futures]


def resolved_options(result: ProviderResult, outputs: list[StoredOutput],
                     asked_background: object = None) -> dict[str, str]:
    """The options the answer settled (the size it drew when asked for `auto`, ...), as the job reports them. The
    background is always settled, as OpenAI answers it (`transparent` or `opaque`, never `auto`): what the upstream
    says, else what the request asked, else (asked `auto` or nothing) the image's own alpha channel."""
    settled = ("transparent", "opaque")
    background = next((b for b in (result.background, asked_background) if b in settled), None)
    if background is None and outputs and outputs[0].has_alpha is not None:
        background = "transparent" if outputs[0].has_alpha else "opaque"
    resolved = {"size": result.size or (f"{outputs[0].width}x{outputs[0].height}" if outputs else None),
                "quality": result.quality, "background": background, "output_format": result.output_format}
    return {k: v for k, v in resolved.items() if v}
