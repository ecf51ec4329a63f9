"""A job's input and output images as short-lived presigned links, for the console's job page and log thumbnails
(`GET /v1/jobs/{id}` links only the outputs). Presigning is local signing: no request to S3 per link."""

from __future__ import annotations

from typing import Literal

from retouch.models.console_routes import JobImageLink, JobImages
from retouch.models.records import JobRecord, StoredInput
from retouch.ports import ObjectStore

# Thumbnails are shown at once; a link that outlives the page's visit is a link that leaks longer.
MAX_LINK_SECONDS = 15 * 60


def _input_link(image: StoredInput, role: Literal["image", "mask"], store: ObjectStore,
                expires_in: int) -> JobImageLink | None:
    """A stored input's presigned link; an input the worker fetched from a URL, that URL (nothing was kept of it)."""
    source: Literal["stored", "url"]
    if image.key is not None:
        url, source = store.presign_get(image.key, expires_in), "stored"
    elif image.url is not None:
        url, source = image.url, "url"
    else:
        return None
    return JobImageLink(url=url, source=source, role=role, width=image.width, height=image.height,
                        content_type=image.content_type, bytes=image.bytes)


def job_images(job: JobRecord, store: ObjectStore, url_expiry_seconds: int) -> JobImages:
    """The job's inputs in order (then its mask), and its outputs once it succeeded; links valid for the lesser of
    the deployment's URL expiry and 15 minutes."""
    expires_in = min(url_expiry_seconds, MAX_LINK_SECONDS)
    links = [_input_link(image, "image", store, expires_in) for image in job.inputs]
    if job.mask is not None:
        links.append(_input_link(job.mask, "mask", store, expires_in))
    inputs = [link for link in links if link is not None]
    outputs = [JobImageLink(url=store.presign_get(output.key, expires_in), source="stored", role="output",
                            width=output.width, height=output.height, content_type=output.content_type,
                            bytes=output.bytes)
               for output in job.outputs] if job.status == "succeeded" else []
    return JobImages(job_id=job.job_id, expires_in=expires_in, inputs=inputs, outputs=outputs)
