"""Loading a job's inputs for its upstreams (the worker's side): each stored file or URL, checked again with the
rules it was accepted under, since a file can be deleted or a URL can answer anything after acceptance.

A job's input URLs are fetched all at once, under one deadline for them all (`fetch_seconds`, the worker's
url_fetch_timeout_seconds): 16 URLs and a mask that drip bytes hold a worker that long, not 17 times that long.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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

# Fetches an input URL's bytes (capped) within the given seconds, as retouch.outbound_http.url_fetch.fetch_url does.
FetchUrl = Callable[[str, float], bytes]
# A URL's bytes, or why it could not be fetched (raised when the job reaches that input).
_Fetched = dict[str, bytes | Exception]


def load_inputs(job: JobRecord, store: ObjectStore, fetch_url: FetchUrl, files: ExitStack, *,
                fetch_seconds: float) -> tuple[list[InputImage], InputImage | None]:
    """Each input and the mask, checked; their temporary files are closed with `files`. The URLs among them are
    fetched in parallel, all within `fetch_seconds` from now, and their sizes noted on `job` (for its charge)."""
    limits = known_model(job.model).limits
    fetched = fetch_all([source.url for source in (*job.inputs, job.mask) if source and source.url], fetch_url,
                        fetch_seconds)
    images: list[InputImage] = []
    first: ImageInfo | None = None
    for index, source in enumerate(job.inputs):
        data = _load_kept(source, store, fetched, files)
        try:
            info = checked_image_info(data, limits, f"image[{index}]")
        except InvalidImage as exc:
            raise JobFailure(exc.code or "invalid_image", f"image[{index}]: {exc.message}") from exc
        # The storage key goes along: upstreams that take URLs are sent a presigned one instead of the bytes.
        images.append(_as_input(job, data, info.content_type, f"image_{index}.{EXTENSIONS[info.format]}",
                                 source.key))
        if source.url:  # its size is known now: the charge estimates it as it is, not at the bound its hold took
            job.inputs[index] = source.model_copy(update={"width": info.width, "height": info.height})
        first = first or info
    if job.mask is None:
        return images, None
    data = _load_kept(job.mask, store, fetched, files)
    try:
        checked_mask_info(data, first, limits)
    except InvalidImage as exc:
        raise JobFailure("invalid_mask", exc.message) from exc
    if job.mask.url and first is not None:  # a mask has its first image's size (just checked)
        job.mask = job.mask.model_copy(update={"width": first.width, "height": first.height})
    return images, _as_input(job, data, "image/png", "mask.png", job.mask.key)


def fetch_all(urls: list[str], fetch_url: FetchUrl, seconds: float) -> _Fetched:
    """Every URL at once, each given what is left of one deadline `seconds` from now; a failure is kept, not raised,
    so the job reports the first failing input in its order."""
    unique = list(dict.fromkeys(urls))
    if not unique:
        return {}
    deadline = time.monotonic() + seconds

    def fetch(url: str) -> bytes | Exception:
        try:
            return fetch_url(url, max(deadline - time.monotonic(), 0.0))
        except Exception as exc:  # noqa: BLE001 - kept for the input it belongs to, raised there
            return exc

    with ThreadPoolExecutor(max_workers=len(unique), thread_name_prefix="input-url") as pool:
        return dict(zip(unique, pool.map(fetch, unique), strict=True))


def _load(source: StoredInput, store: ObjectStore, fetched: _Fetched) -> bytes | BinaryIO:
    """A stored input as a temporary file (a job's inputs can be hundreds of MB); a URL's as bytes (capped)."""
    if source.key:
        try:
            return store.get_file(source.key)
        except ObjectMissing as exc:  # an uploaded file deleted, or expired, after the job was accepted
            raise JobFailure("input_missing", "An input image is no longer stored (its file was deleted or "
                                              "expired before the job ran).") from exc
    result = fetched[source.url or ""]
    if isinstance(result, Exception):
        raise result
    return result


def _load_kept(source: StoredInput, store: ObjectStore, fetched: _Fetched, files: ExitStack) -> bytes | BinaryIO:
    loaded = _load(source, store, fetched)
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
