"""Every retry policy of the code base: what is tried again, how often, how long apart, and where. The counts and
schedules live here; where a policy must stay with its code (a provider's reading of its answers, boto3's client,
the queues in template.yaml), this map points at the one place it lives. tests/unit/test_retry_map.py finds retry
loops, tries counts and SDK retry settings in the source and fails on one this map does not name.

Jobs (the worker)
- A transient failure (an upstream's 429/5xx/timeout, an unclassified error) puts the job back to `queued`; its message
  comes back after `backoff_seconds` (exponential from retouch.config.WorkerSettings.retry_base_seconds, jittered, at
  most MAX_BACKOFF_SECONDS, never sooner than the upstream's Retry-After), at most
  retouch.config.WorkerSettings.max_attempts times, carried by retouch.wiring.worker.build_worker into
  retouch.jobs.process.WorkerDeps.max_attempts and retouch.jobs.process.WorkerDeps.retry_base_seconds; decided in
  retouch.jobs.process._run_claimed and retouch.jobs.process._after_unexpected, released by retouch.jobs.process._retry.
  A job whose workers died takes CRASH_SLACK_ATTEMPTS claims more (retouch.jobs.process._run_claimed_once).
  Refusals (safety, invalid input, every upstream's key rejected) are never retried.
- Within one attempt, the model's upstreams are tried in routing order, each once
  (retouch.jobs.upstream_calls._Pass.run); an upstream whose circuit is open is skipped until its cool-down ends,
  then probed once (retouch.routing.breaker.CircuitBreaker, policy retouch.routing.document.BreakerPolicy). A
  breaker count that lost the race to start a new window counts again, BREAKER_COUNT_TRIES in all
  (retouch.data.breakers.BreakerRepository.count).
- Which upstream answers are transient is read once for every upstream, OpenAI's dialects included:
  retouch.providers.upstream_http._RETRYABLE (and 5xx; 408/409/425 are retried as
  retouch.providers.upstream_http._RETRY_LATER_CODES says, `provider_retry_later`, which the breaker does not count as
  an outage), with the wait the upstream asks for
  (retouch.providers.upstream_http.retry_after: `retry-after-ms`, else `Retry-After`). No HTTP call is repeated in
  place: one call per upstream per attempt (retouch.outbound_http.client.outbound_client).
- An asynchronous upstream's job is polled through delayed messages (retouch.jobs.upstream_calls.poll_pending): a
  failed poll is polled again after retouch.jobs.upstream_calls.POLL_ERROR_DELAY_SECONDS, at most
  retouch.jobs.upstream_calls.MAX_POLL_ERRORS in a row, and a job pending past
  retouch.jobs.upstream_calls.MAX_PENDING_SECONDS goes to the next upstream.
- Pushing a retried message's visibility out is tried REDELIVERY_PUSH_TRIES times
  (retouch.jobs.process.handle_delivery); if that fails, the message still comes back within the lease. A heartbeat
  (renewing the lease) that fails tries again at its next beat (retouch.jobs.heartbeat.Heartbeat._run).
- A job that would fetch input URLs while its account holds its share of the fetching workers is not run: a new
  message brings it back after retouch.jobs.fetch_share.DEFER_SECONDS (no claim, no attempt, no receive spent), as
  often as its account stays at its share (retouch.jobs.process._defer; the sweeper's give-up bounds it).
- A terminal event that could not be queued brings the job's message back after EMIT_RETRY_SECONDS
  (retouch.webhooks.events.Announcer._announce).
- A stranded job (past its `watch_at`) is queued again by the sweeper (retouch.jobs.sweep.sweep, a page at a time); a
  message received template.yaml JobsQueue's maxReceiveCount (10) times goes to its DLQ and its job is ended
  (retouch.jobs.abandoned.end_abandoned_message). The sweeper's schedule is an asynchronous invocation, which Lambda
  retries twice by default (template.yaml SweeperFunction; not configured).

Submit (the API)
- A job that could not be queued is ended, ABANDON_TRIES times at most (retouch.jobs.submit._abandon); else the
  sweeper queues it.
- A request under an Idempotency-Key held by an identical request in flight waits for it up to
  retouch.jobs.idempotency.IN_FLIGHT_WAIT_SECONDS, polling from retouch.jobs.idempotency.FIRST_POLL_SECONDS doubling to
  retouch.jobs.idempotency.MAX_POLL_SECONDS (retouch.jobs.idempotency._earlier_job); a key released between a lost
  write and the next look is tried KEY_RELEASED_TRIES times (retouch.jobs.idempotency.once).
- `Prefer: wait` polls the job until it ends or the wait is over (retouch.jobs.wait.wait_for_job).
- A streamed answer (`stream=true`, `GET /v1/jobs/{id}/events`) reads the job and its partial images until it ends or
  the response's hold is over (retouch.jobs.event_stream.follow); the client resumes with `Last-Event-ID`. The sync
  function's Runtime API loop takes invocations one after another (retouch.streaming_runtime.serve): not a retry.
- What a refused caller is told to wait (Retry-After): retouch.jobs.idempotency.MAX_RETRY_AFTER_SECONDS at most (409),
  retouch.billing.charges.CONCURRENCY_RETRY_AFTER_SECONDS (429 in-flight limit), the rest of the minute
  (retouch.billing.rate_limit.admit, 429 rate limit), retouch.jobs.holds.RETRY_AFTER_SECONDS (429 sync holds), the rest
  of the hour (retouch.webhooks.events._count_redelivery,
  429 redelivery budget).

Data (DynamoDB, SQS, S3)
- Every boto3 call: the SDK's `standard` retries, AWS_SDK_MAX_ATTEMPTS attempts (retouch.data.clients.aws_client).
  A write whose answer was lost and is tried again by the SDK is made idempotent by its condition or its token.
- Balance moves: an account update that meets an operator's credit transaction in flight (DynamoDB's
  TransactionConflictException, which the SDK does not retry) is tried again after `conflict_backoff_seconds`, at most
  CONFLICT_TRIES times (retouch.data.account_state.AccountStateRepository._update_account; and the transactions that
  hold the account themselves, an operator's credit and a pre-holds job's release, in
  retouch.data.ledger.LedgerRepository._transact_with_account). The same for a new job written with its
  Idempotency-Key, which concurrent requests under that key conflict with
  (retouch.data.jobs.JobRepository._with_key). An account from before holds gets its holds map, then the move is
  tried again, HOLDS_MAP_TRIES in all (retouch.data.ledger.LedgerRepository._move). Holds and releases
  never conflict with each other: they are single-item atomic updates.
- A fixed-window count that finds a new window starts it; losing that race counts again, RATE_WINDOW_TRIES in all
  (retouch.data.windows.count_in_window: the per-minute request count,
  retouch.data.account_state.AccountStateRepository.count_request, and a job's hourly webhook redelivery count,
  retouch.data.jobs.JobRepository.count_redelivery, which refuses past them).
- An account's webhook settings changed concurrently are read and written again, SETTINGS_WRITE_TRIES in all
  (retouch.webhooks.account._update).
- Payments: a credit or reversal transaction that meets one in flight on the account is tried again like a credit
  (retouch.data.ledger.LedgerRepository._transact_with_account); a reversal whose payment changed since it was read
  (another refund or dispute at once) reads it again, PAYMENT_REVERSAL_TRIES in all
  (retouch.data.payments.PaymentRepository.reverse_payment), then fails so Stripe delivers the event again.
- An auto-recharge message whose Stripe call failed comes back after its visibility, 5 receives in all, then the
  recharge DLQ (template.yaml RechargeQueue); each asks Stripe again with the claim's idempotency key.
- Stripe's API: the library's own retries (409, 429, 5xx, connection errors, each with an idempotency key),
  STRIPE_NETWORK_RETRIES of them (retouch.payments.stripe_gateway.StripeGateway._client).
- Reconciliation re-reads an account that differs before reporting it (retouch.billing.reconcile.reconcile's
  `rechecks` and `pause_seconds`).
- A console person's first membership is read again when a concurrent verification wrote it or the invitation was
  taken meanwhile, MEMBERSHIP_TRIES in all (retouch.console.sign_up.ensure_member).
- End users' quota moves (retouch.data.end_users.MOVE_TRIES in all): a hold or request count that finds the end user
  in an older minute, day or month starts the window, conditioned on the window it read, and tries again when another
  writer started it first (retouch.data.end_users.EndUserRepository.hold,
  retouch.data.end_users.EndUserRepository.count_request); a release conditioned on the spend it read tries again
  when a concurrent settlement moved it (retouch.data.end_users.EndUserRepository.release). A refusal is never tried
  again.
- An end user's erasure runs one batch per message of template.yaml ErasureQueue; a batch that fails comes back
  (every step is idempotent), at most its maxReceiveCount (10) times, then waits in its DLQ.

Webhook deliveries
- Each failed attempt waits the schedule's next delay (`retry_delay`, jittered; DEFAULT_SCHEDULE, or
  retouch.config.WebhookSettings.webhook_retry_schedule), then the event is dead-lettered
  (retouch.webhooks.delivery.attempt_event, retouch.webhooks.delivery.handle_webhook_message); template.yaml
  WebhooksQueue's maxReceiveCount (30) is a backstop above the last attempt.

The signal: RedeliverLater is how the worker and the webhook function push a queue message's next delivery out.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Final

# ---- the signal ---------------------------------------------------------------------------------------------------


class RedeliverLater(Exception):
    """Deliver this queue message again after `delay_seconds`: reported as a batch item failure, not a crash."""

    def __init__(self, delay_seconds: int, reason: str = "") -> None:
        super().__init__(f"{reason + ': ' if reason else ''}redeliver in {delay_seconds}s")
        self.delay_seconds = delay_seconds


# ---- jobs ---------------------------------------------------------------------------------------------------------

MAX_BACKOFF_SECONDS = 900
# Claims beyond max_attempts that a job may still take when its workers died rather than failed (each death is a
# claim with no failure to count): past them it ends instead of running again.
CRASH_SLACK_ATTEMPTS = 1
# Tries to push a retried message's next delivery out (a failure leaves it to come back within the lease).
REDELIVERY_PUSH_TRIES = 2
# A job whose terminal event could not be queued comes back this soon to try again.
EMIT_RETRY_SECONDS = 30


def backoff_seconds(attempt: int, base: float, retry_after: float | None = None) -> int:
    """Exponential backoff with jitter; never sooner than the provider's Retry-After."""
    delay = base * (2 ** max(0, attempt - 1)) * random.uniform(0.8, 1.2)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return int(min(MAX_BACKOFF_SECONDS, max(0.0, delay)) + 0.5)


# ---- submit -------------------------------------------------------------------------------------------------------

# Tries to end a job that could not be queued (then the sweeper queues it instead).
ABANDON_TRIES = 3
# Looks at an Idempotency-Key's holder: the key can be released (its job not queued) between a loss and the next look.
KEY_RELEASED_TRIES = 2


# ---- data ---------------------------------------------------------------------------------------------------------

# Every boto3 client's retries (botocore's `standard` mode: throttling, 5xx and connection errors, with backoff).
AWS_SDK_RETRY_MODE: Final = "standard"
AWS_SDK_MAX_ATTEMPTS: Final = 3
# A count that lost the race to start a new window tries again; past this, something else is wrong.
BREAKER_COUNT_TRIES = 5
# The per-minute request count: count, or start the new minute's window, or lose that race and count again.
RATE_WINDOW_TRIES = 3
# A balance move on an account from before holds: add the holds map, then move again.
HOLDS_MAP_TRIES = 2
# An account's webhook settings: read, change, write on the version read; again on a concurrent change.
SETTINGS_WRITE_TRIES = 3
# A refund or dispute: read the payment, write conditioned on what was read; again when another reversal moved it.
PAYMENT_REVERSAL_TRIES = 8
# Stripe's library retries a failed request this many times (with its idempotency key), within the route's 29 s.
STRIPE_NETWORK_RETRIES = 2
# A console person's first membership (join the inviting account, or make one): read again when a concurrent
# verification made it first or the invitation went meanwhile.
MEMBERSHIP_TRIES = 3


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
