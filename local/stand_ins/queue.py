"""The jobs of a stand-in with an asynchronous API (ModelsLab's fetch_result, Oxen's queue, fal's queue).

As the real services behave: the submit answers at once with the job queued, and the job is done once the stand-in's
delay has passed since it was submitted (`ready_after`), not after a number of polls. The work is done at submit
(drawing is cheap), so a poll after the delay gets the image at once. `eta_seconds` is what the service would
estimate: the time left, rounded up. `pending_polls` (0 by default) can still make a job answer "still running" to
its first status polls, so a test can exercise a client's pending -> finished cycle without timing anything.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from local.stand_ins.stand_in import Moments

MAX_JOBS = 1024


@dataclass
class QueuedJob:
    job_id: str
    outcome: Any  # what the wire format answers once the job is done (outputs, or its failure)
    polls_left: int
    ready_at: float  # monotonic time from which the job is done
    now: float = 0.0  # when this view of the job was taken

    @property
    def done(self) -> bool:
        return self.polls_left <= 0 and self.now >= self.ready_at

    @property
    def eta_seconds(self) -> int:
        """The service's estimate of the time left: whole seconds, at least 1 while running."""
        return max(1, math.ceil(self.ready_at - self.now)) if not self.done else 0


class JobQueue:
    """Thread-safe; keeps the newest MAX_JOBS jobs."""

    def __init__(self, pending_polls: int = 0, clock: Callable[[], float] = time.monotonic) -> None:
        self.pending_polls = pending_polls
        self._clock = clock
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, QueuedJob] = OrderedDict()
        self.ready_at = Moments()  # job id -> when (time.time()) its image is ready

    def add(self, outcome: Any, job_id: str | None = None, *, ready_after: float = 0.0) -> QueuedJob:
        """A job done `ready_after` seconds from now (the stand-in's delay)."""
        now = self._clock()
        job = QueuedJob(job_id or str(uuid.uuid4()), outcome, self.pending_polls, now + ready_after, now)
        with self._lock:
            self._jobs[job.job_id] = job
            while len(self._jobs) > MAX_JOBS:
                self._jobs.popitem(last=False)
        self.ready_at.record(job.job_id, time.time() + ready_after)
        return replace(job)

    def poll(self, job_id: str) -> QueuedJob | None:
        """The job as this status poll sees it (the poll then counts toward its end); None when unknown."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            seen = replace(job, now=self._clock())
            job.polls_left = max(0, job.polls_left - 1)
            return seen

    def peek(self, job_id: str) -> QueuedJob | None:
        """The job as it is, without counting a poll (a result fetch)."""
        with self._lock:
            job = self._jobs.get(job_id)
            return replace(job, now=self._clock()) if job is not None else None
