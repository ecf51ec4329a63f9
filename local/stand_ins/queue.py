"""The jobs of a stand-in with an asynchronous API (ModelsLab's fetch_result, Oxen's queue, fal's queue).

The work is done at submit (drawing is cheap); a job then answers "still running" to its first `pending_polls`
status polls and finished after, so a client's pending -> finished cycle is exercised without timing anything.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any

MAX_JOBS = 1024


@dataclass
class QueuedJob:
    job_id: str
    outcome: Any  # what the wire format answers once the job is done (outputs, or its failure)
    polls_left: int

    @property
    def done(self) -> bool:
        return self.polls_left <= 0


class JobQueue:
    """Thread-safe; keeps the newest MAX_JOBS jobs."""

    def __init__(self, pending_polls: int = 1) -> None:
        self.pending_polls = pending_polls
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, QueuedJob] = OrderedDict()

    def add(self, outcome: Any, job_id: str | None = None) -> QueuedJob:
        job = QueuedJob(job_id or str(uuid.uuid4()), outcome, self.pending_polls)
        with self._lock:
            self._jobs[job.job_id] = job
            while len(self._jobs) > MAX_JOBS:
                self._jobs.popitem(last=False)
        return job

    def poll(self, job_id: str) -> QueuedJob | None:
        """The job as this status poll sees it (the poll then counts toward its end); None when unknown."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            seen = replace(job)
            job.polls_left = max(0, job.polls_left - 1)
            return seen

    def peek(self, job_id: str) -> QueuedJob | None:
        """The job as it is, without counting a poll (a result fetch)."""
        with self._lock:
            return self._jobs.get(job_id)
