"""Storing the images an upstream answered with, as the job's outputs, and what the answer resolved."""

from __future__ import annotations

from retouch.images.inspect import UnreadableImage as UnreadableOutput
from retouch.images.inspect import inspect_image
from retouch.jobs.retention import outputs_prefix
from retouch.models.records import JobRecord, StoredOutput
from retouch.ports import ObjectStore
from retouch.providers.base import ProviderResult, ProviderUnavailable


def store_outputs(job: JobRecord, token: str, result: ProviderResult, store: ObjectStore) -> list[StoredOutput]:
    """Keys carry the claim's token: a worker that lost its claim can delete what it wrote without touching the
    outputs of the worker that took over."""
    outputs = []
    for index, image in enumerate(result.images):
        try:
            info = inspect_image(image.open())
        except UnreadableOutput as exc:  # a truncated or garbled answer: transient, like any bad response
            raise ProviderUnavailable("provider_bad_response", f"image {index} is unreadable: {exc}") from exc
        # No account id in the key: presigned URLs carry it to whoever the customer shares them with.
        key = f"{outputs_prefix(job.job_id)}{token}-{index}.{'jpg' if info.format == 'jpeg' else info.format}"
        store.put(key, image.open(), info.content_type)
        outputs.append(StoredOutput(key=key, content_type=info.content_type, bytes=image.size,
                                    width=info.width, height=info.height))
    return outputs


def resolved_options(result: ProviderResult, outputs: list[StoredOutput]) -> dict[str, str]:
    """The options the answer settled (the size it drew when asked for `auto`, ...), as the job reports them."""
    resolved = {"size": result.size or (f"{outputs[0].width}x{outputs[0].height}" if outputs else None),
                "quality": result.quality, "background": result.background, "output_format": result.output_format}
    return {k: v for k, v in resolved.items() if v}
