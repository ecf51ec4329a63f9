"""The retry schedule: seconds to wait after each failed attempt; one attempt more than it has entries."""

from __future__ import annotations

import random
from collections.abc import Callable

# About 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h: ten attempts over roughly 16 hours.
DEFAULT_SCHEDULE = "5,30,120,600,1800,3600,7200,14400,28800"
MAX_DELAY_SECONDS = 43_200  # SQS's longest visibility timeout (12 h)
MAX_RETRIES = 20  # the queue's redrive (maxReceiveCount 30) must stay a backstop above the last attempt
JITTER = 0.1


def parse_schedule(text: str) -> tuple[int, ...]:
    """"5,30,120" -> (5, 30, 120). Raises ValueError for anything else (settings fail at cold start)."""
    try:
        delays = tuple(int(part.strip()) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise ValueError("the retry schedule is comma-separated whole seconds, e.g. '5,30,120'") from exc
    if len(delays) > MAX_RETRIES:
        raise ValueError(f"the retry schedule has at most {MAX_RETRIES} entries")
    if any(d < 0 or d > MAX_DELAY_SECONDS for d in delays):
        raise ValueError(f"each retry delay is between 0 and {MAX_DELAY_SECONDS} seconds")
    return delays


def total_attempts(schedule: tuple[int, ...]) -> int:
    return len(schedule) + 1


def retry_delay(attempt: int, schedule: tuple[int, ...], uniform: Callable[[float, float], float] = random.uniform
                ) -> int | None:
    """Seconds before attempt `attempt + 1` after attempt `attempt` (1-based) failed; None when none is left.

    Jittered by ±10% so receivers that come back together are not hit together."""
    if attempt < 1 or attempt > len(schedule):
        return None
    base = schedule[attempt - 1]
    return max(0, min(MAX_DELAY_SECONDS, round(base * uniform(1 - JITTER, 1 + JITTER))))
