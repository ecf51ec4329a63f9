"""`Prefer: wait=N`: hold the request until the job ends or the wait runs out."""

from __future__ import annotations

import time
from collections.abc import Callable

from retouch.data.jobs import JobRepository
from retouch.models.records import JobRecord


def wait_for_job(
    jobs: JobRepository,
    record: JobRecord,
    timeout_seconds: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> JobRecord:
    deadline = clock() + timeout_seconds
    interval = 0.2
    while not record.is_terminal and clock() < deadline:
        sleep(min(interval, max(0.0, deadline - clock())))
        record = jobs.get(record.job_id) or record
        interval = min(interval * 1.5, 1.0)
    return record
