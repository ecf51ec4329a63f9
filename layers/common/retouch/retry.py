"""Every retry policy in one place: when a job runs again, when a webhook event is sent again, and the one signal
(RedeliverLater) by which the worker and the webhook function push a queue message's next delivery out.

- Jobs: a transient failure (provider 429/5xx/timeout, an unclassified error) puts the job back to `queued` and its
  message comes back after `backoff_seconds` (exponential, jittered, never sooner than the provider's Retry-After),
  at most `max_attempts` times (jobs/process.py); refusals (safety, validation) are never retried. A stranded job is
  queued again by the sweeper (jobs/sweep.py); a message that exhausted its receives ends its job (jobs/abandoned.py).
- Job events: a terminal event that could not be queued brings the job's message back after EMIT_RETRY_SECONDS.
- Balance moves: an account update that meets an operator's credit transaction in flight (DynamoDB's
  TransactionConflictException) is tried again after `conflict_backoff_seconds`, at most CONFLICT_TRIES times
  (data/ledger.py). Holds and releases themselves never conflict with each other: they are single-item atomic updates.
- Webhook deliveries: each failed attempt waits the schedule's next delay (`retry_delay`, jittered), then the event
  is dead-lettered (webhooks/delivery.py).
"""

from __future__ import annotations

import random
from collections.abc import Callable

# ---- the signal ---------------------------------------------------------------------------------------------------


class RedeliverLater(Exception):
    """Deliver this queue message again after `delay_seconds`: reported as a batch item failure, not a crash."""

    def __init__(self, delay_seconds: int, reason: str = "") -> None:
        super().__init__(f"{reason + ': ' if reason else ''}redeliver in {delay_seconds}s")
        self.delay_seconds = delay_seconds


# ---- jobs ---------------------------------------------------------------------------------------------------------

MAX_BACKOFF_SECONDS = 900
# A job whose terminal event could not be queued comes back this soon to try again.
EMIT_RETRY_SECONDS = 30


def backoff_seconds(attempt: int, base: float, retry_after: float | None = None) -> int:
    """Exponential backoff with jitter; never sooner than the provider's Retry-After."""
    delay = base * (2 ** max(0, attempt - 1)) * random.uniform(0.8, 1.2)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return int(min(MAX_BACKOFF_SECONDS, max(0.0, delay)) + 0.5)


# ---- balance moves ------------------------------------------------------------------------------------------------

# A credit's transaction holds the account item for tens of milliseconds; ten tries back off over about a second.
CONFLICT_TRIES = 10


def conflict_backoff_seconds(attempt: int) -> float:
    """Jittered exponential wait before try `attempt + 1` (0-based `attempt`): 5 ms doubling, at most 200 ms."""
    return float(random.uniform(0.5, 1.0) * min(0.2, 0.005 * (2 ** attempt)))


# ---- webhook deliveries: seconds to wait after each failed attempt; one attempt more than it has entries ----------

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
