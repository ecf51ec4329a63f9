"""Partial images on their way from the worker to whoever waits on the job: each stored under the job's partials
prefix in S3 and recorded beside the job (ports.JobPartials), where the streaming entry and the job's event stream
read them (jobs/event_stream.py). The worker stays the only caller of upstreams; the frames travel through the job.

Frames are numbered per job in arrival order, up to what the job asked for (`partial_images` per image). A job run
again (a redelivery, a fallback after a failure) keeps the frames already recorded: a later run's frame with an
index taken is dropped, its object deleted, so a client that saw frame 0 never sees another frame 0.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from aws_lambda_powertools import Logger

from retouch.images.inspect import CONTENT_TYPES
from retouch.jobs.retention import partials_prefix
from retouch.models.records import JobRecord
from retouch.ports import JobPartials, ObjectStore, PartialFrame
from retouch.providers.partials import PartialImage

logger = Logger(child=True)


def requested_partials(job: JobRecord) -> int:
    value = job.request.get("partial_images")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class PartialFrames:
    """The worker's PartialSink for one job run."""

    def __init__(self, job: JobRecord, store: ObjectStore, partials: JobPartials,
                 clock: Callable[[], float] = time.time) -> None:
        self.requested = requested_partials(job)
        self._job = job
        self._store = store
        self._partials = partials
        self._clock = clock
        self._limit = self.requested * max(1, int(job.request.get("n") or 1))
        self.received = 0  # frames the upstream sent this run, recorded or not: what it bills

    def __call__(self, partial: PartialImage) -> None:
        index = self.received
        self.received += 1
        if index >= self._limit:
            return
        job_id = self._job.job_id
        key = f"{partials_prefix(job_id)}{index}-{uuid.uuid4().hex[:12]}.{partial.output_format}"
        self._store.put(key, partial.data, CONTENT_TYPES.get(partial.output_format, "application/octet-stream"))
        frame = PartialFrame(index=index, key=key, output_format=partial.output_format, at=int(self._clock()))
        if not self._partials.add(job_id, frame, expires_at=self._job.expires_at):
            self._store.delete([key])
            logger.info("partial image already recorded by an earlier run", extra={"job_id": job_id, "index": index})
