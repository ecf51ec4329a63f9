"""`Prefer: wait=N`: hold the request until the job ends or the wait runs out."""

from __future__ import annotations

import time
from collections.abc import Callable

from retouch.models.records import JobRecord
from retouch.ports import JobRepository

# How often a held request re-reads the job: the end is noticed within this, at <= 4 consistent reads a second.
FIRST_POLL_SECONDS = 0.1
MAX_POLL_SECONDS = 0.25


def wait_for_job(
    jobs: JobRepository,
    record: JobRecord,
    timeout_seconds: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> JobRecord:
    deadline = clock() + timeout_seconds
    interval = FIRST_POLL_SECONDS
    while not record.is_terminal and clock() < deadline:
        sleep(min(interval, max(0.0, deadline - clock())))
        record = jobs.get(record.job_id) or record
        interval = min(interval * 1.5, MAX_POLL_SECONDS)
    return record
