"""Loading a job's inputs for its upstreams (the worker's side): each stored file or URL, checked again with the
rules it was accepted under, since a file can be deleted or a URL can answer anything after acceptance."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import BinaryIO

from retouch.catalog import known_model
from retouch.errors import InvalidImage, JobFailure
from retouch.images.input_checks import EXTENSIONS, checked_image_info, checked_mask_info
from retouch.images.inspect import ImageInfo
from retouch.jobs.retention import upstream_inputs_prefix
from retouch.models.records import JobRecord, StoredInput
from retouch.ports import ObjectMissing, ObjectStore
from retouch.providers.base import InputImage

# Fetches an input URL's bytes (capped), as retouch.outbound_http.url_fetch.fetch_url does.
FetchUrl = Callable[[str], bytes]


def load_inputs(job: JobRecord, store: ObjectStore, fetch_url: FetchUrl,
                files: ExitStack) -> tuple[list[InputImage], InputImage | None]:
    """Each input and the mask, checked; their temporary files are closed with `files`."""
    limits = known_model(job.model).limits
    images: list[InputImage] = []
    first: ImageInfo | None = None
    for index, source in enumerate(job.inputs):
        data = _load_kept(source, store, fetch_url, files)
        try:
            info = checked_image_info(data, limits, f"image[{index}]")
        except InvalidImage as exc:
            raise JobFailure(exc.code or "invalid_image", f"image[{index}]: {exc.message}") from exc
        # The storage key goes along: upstreams that take URLs are sent a presigned one instead of the bytes.
        images.append(_as_input(job, data, info.content_type, f"image_{index}.{EXTENSIONS[info.format]}",
                                 source.key))
        first = first or info
    if job.mask is None:
        return images, None
    data = _load_kept(job.mask, store, fetch_url, files)
    try:
        checked_mask_info(data, first, limits)
    except InvalidImage as exc:
        raise JobFailure("invalid_mask", exc.message) from exc
    return images, _as_input(job, data, "image/png", "mask.png", job.mask.key)


def _load(source: StoredInput, store: ObjectStore, fetch_url: FetchUrl) -> bytes | BinaryIO:
    """A stored input as a temporary file (a job's inputs can be hundreds of MB); a URL's as bytes (capped)."""
    if source.key:
        try:
            return store.get_file(source.key)
        except ObjectMissing as exc:  # an uploaded file deleted, or expired, after the job was accepted
            raise JobFailure("input_missing", "An input image is no longer stored (its file was deleted or "
                                              "expired before the job ran).") from exc
    return fetch_url(source.url or "")


def _load_kept(source: StoredInput, store: ObjectStore, fetch_url: FetchUrl, files: ExitStack) -> bytes | BinaryIO:
    loaded = _load(source, store, fetch_url)
    return loaded if isinstance(loaded, bytes) else files.enter_context(loaded)


def _as_input(job: JobRecord, loaded: bytes | BinaryIO, content_type: str, filename: str,
              storage_key: str | None) -> InputImage:
    # An input an upstream must fetch by URL but that has no key of its own is staged under the job (retention).
    staging_prefix = upstream_inputs_prefix(job.job_id)
    if isinstance(loaded, bytes):
        return InputImage(data=loaded, content_type=content_type, filename=filename, storage_key=storage_key,
                          staging_prefix=staging_prefix)
    return InputImage(file=loaded, content_type=content_type, filename=filename, storage_key=storage_key,
                      staging_prefix=staging_prefix)
