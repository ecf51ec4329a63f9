"""`Prefer: wait=N`: hold the request until the job ends or the wait runs out.

Without history a held request re-reads the job on a short geometric schedule (0.1 s growing to 0.25 s). With the
durations of earlier waits for the same kind of job (`WaitHistory`, kept per warm environment), it reads about once a
second while that end is far, then, as it nears, at half the time left until the fine reads start (so a job ending
sooner than its kind did is seen within a fraction of what remained, not a whole second late), then every 50 ms
around it: the end is noticed sooner with fewer reads.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Hashable

from retouch.models.records import JobRecord
from retouch.ports import JobRepository

# Without history: the end is noticed within MAX_POLL_SECONDS, at <= 4 consistent reads a second.
FIRST_POLL_SECONDS = 0.1
MAX_POLL_SECONDS = 0.25
# With history: far from the expected end, one read a second (a job that fails early is still seen within it), then
# half the time left until the fine reads (at least MAX_POLL_SECONDS, unless less than that is left) ...
FAR_POLL_SECONDS = 1.0
# ... then fine reads from NEAR_SECONDS before it to NEAR_SECONDS after, growing back to MAX_POLL_SECONDS if the job
# runs later than that.
NEAR_POLL_SECONDS = 0.05
NEAR_SECONDS = 0.2


# A duration older than this says little of the next one: the upstream's latency and the queue's wait drift with
# load (a burst's waits would otherwise keep a quiet environment's first waits reading a second apart, past the end).
HISTORY_MAX_AGE_SECONDS = 60.0


class WaitHistory:
    """The last durations (from the wait's start to the end it saw) of succeeded jobs, per kind of job, for a
    minute each."""

    def __init__(self, keep: int = 8, *, max_age_seconds: float = HISTORY_MAX_AGE_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        self._keep = keep
        self._max_age = max_age_seconds
        self._clock = clock
        self._seen: dict[Hashable, deque[tuple[float, float]]] = {}  # kind -> (seconds, when seen)
        self._lock = threading.Lock()

    @staticmethod
    def kind_of(record: JobRecord) -> Hashable:
        """What a job's duration depends on: model, operation, quality, size and count."""
        request = record.request
        return (record.model, record.kind, request.get("quality"), request.get("size"), request.get("n"))

    def expected_seconds(self, record: JobRecord) -> float | None:
        """The shortest recent duration of this kind of job (never past a typical end), or None without one seen
        within the last minute."""
        fresh_from = self._clock() - self._max_age
        with self._lock:
            recent = [seconds for seconds, seen in self._seen.get(self.kind_of(record), ()) if seen >= fresh_from]
            return min(recent) if recent else None

    def observe(self, record: JobRecord, seconds: float) -> None:
        with self._lock:
            self._seen.setdefault(self.kind_of(record), deque(maxlen=self._keep)).append((seconds, self._clock()))


def poll_intervals(expected: float | None) -> Callable[[float], float]:
    """The next sleep, given the seconds waited so far."""
    if expected is None:
        state = {"next": FIRST_POLL_SECONDS}

        def geometric(_elapsed: float) -> float:
            interval = state["next"]
            state["next"] = min(interval * 1.5, MAX_POLL_SECONDS)
            return interval

        return geometric

    near_from, near_until = expected - NEAR_SECONDS, expected + NEAR_SECONDS
    late = {"next": NEAR_POLL_SECONDS}

    def adaptive(elapsed: float) -> float:
        if elapsed < near_from - NEAR_POLL_SECONDS:
            left = near_from - elapsed
            return min(left, FAR_POLL_SECONDS, max(MAX_POLL_SECONDS, left / 2))
        if elapsed < near_until:
            return NEAR_POLL_SECONDS
        interval = late["next"] = min(late["next"] * 1.5, MAX_POLL_SECONDS)
        return interval

    return adaptive


def wait_for_job(
    jobs: JobRepository,
    record: JobRecord,
    timeout_seconds: float,
    *,
    history: WaitHistory | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> JobRecord:
    started = clock()
    deadline = started + timeout_seconds
    next_interval = poll_intervals(history.expected_seconds(record) if history is not None else None)
    seen_running = not record.is_terminal
    while not record.is_terminal and clock() < deadline:
        sleep(min(next_interval(clock() - started), max(0.0, deadline - clock())))
        record = jobs.get(record.job_id) or record
    if history is not None and seen_running and record.status == "succeeded":
        history.observe(record, clock() - started)
    return record
