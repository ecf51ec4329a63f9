"""What the domain measures, in its own words: one call per event (`job_submitted`, `provider_call`, ...).

The domain never touches Powertools Metrics: it calls these functions, which add to the invocation's shared EMF set
(Powertools' `Metrics`, flushed by `@metrics.log_metrics` on each handler), and, for a metric with an extra dimension
(error code, upstream), write it at once as an EMF line of its own. Every name comes from `metric_names`.

A metric is never worth a job: an emission that fails is logged and dropped.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from retouch.errors import ConcurrencyLimited, InsufficientCredits, RateLimited, RetouchError
from retouch.observability import metric_names as names
from retouch.observability.tracing import correlate
from retouch.providers.base import ProviderUnavailable

logger = Logger(child=True)

# An invocation that measured nothing is normal here (a /health call, a sweep with nothing to sweep), so Powertools'
# "No application metrics to publish" UserWarning from @metrics.log_metrics would only be noise on every such call.
# Silenced as Powertools' metrics docs show ("Raising SchemaValidationError on empty metrics"); nothing else changes:
# an empty set is still not flushed, and any other warning still shows.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

# The invocation's aggregate set, shared by every Metrics instance: each handler's own `Metrics()` (built when its
# environment, namespace included, is set) flushes it with @metrics.log_metrics.
_shared = Metrics()
# A worker's batch runs its records on threads: adding to the shared set is a read-modify-write, so one at a time.
_shared_lock = threading.Lock()


def _add(name: str, value: float = 1, unit: MetricUnit = MetricUnit.Count) -> None:
    try:
        with _shared_lock:
            _shared.add_metric(name=name, unit=unit, value=value)
    except Exception:
        logger.exception("metric not recorded", extra={"metric": name})


def _with_dimension(dimension: str, value: str, values: dict[str, tuple[float, MetricUnit]]) -> None:
    """`values` as one EMF line with `dimension` (besides `service`), written now: the shared set has one dimension
    set per invocation, and a batch's records differ in error code or upstream."""
    try:
        line = EphemeralMetrics(service=names.SERVICE)
        line.add_dimension(name=dimension, value=value)
        for name, (amount, unit) in values.items():
            line.add_metric(name=name, unit=unit, value=amount)
        line.flush_metrics()
    except Exception:
        logger.exception("metric not recorded", extra={"metrics": sorted(values), dimension: value})


# ---- jobs ------------------------------------------------------------------------------------------------------

def job_submitted(job_id: str, account_id: str) -> None:
    """A job was accepted (written and held): from here on every log line of it carries its id."""
    correlate(job_id, account_id)
    _add(names.JOBS_SUBMITTED)


def job_started(job_id: str, account_id: str, *, attempts: int, created_at: int, now: int) -> None:
    """A worker claimed the job; its first claim measures the queue wait (enqueue to claim, whole seconds)."""
    correlate(job_id, account_id)
    _add(names.JOBS_STARTED)
    if attempts == 1:
        _add(names.QUEUE_WAIT, max(now - created_at, 0) * 1000, MetricUnit.Milliseconds)


def job_succeeded(*, attempts: int) -> None:
    _add(names.JOBS_SUCCEEDED)
    _add(names.PROVIDER_ATTEMPTS, attempts)


def job_failed(code: str, *, attempts: int | None = None) -> None:
    """A job ended `failed`: counted in the aggregate and by its error code (the auth-failure alarm reads that)."""
    _add(names.JOBS_FAILED)
    _with_dimension(names.ERROR_CODE, code, {names.JOBS_FAILED: (1, MetricUnit.Count)})
    if attempts is not None:
        _add(names.PROVIDER_ATTEMPTS, attempts)


def job_ended(status: str, *, attempts: int, error_code: str | None) -> None:
    """A worker's terminal transition committed (succeeded or failed)."""
    if status == "succeeded":
        job_succeeded(attempts=attempts)
    else:
        job_failed(error_code or "unknown", attempts=attempts)


def job_canceled() -> None:
    _add(names.JOBS_CANCELED)


# ---- provider --------------------------------------------------------------------------------------------------

@contextmanager
def provider_call(upstream: str, *, clock: Callable[[], float] = time.monotonic) -> Iterator[None]:
    """Measures one call to `upstream`: counted, timed, and a failure when it raises ProviderUnavailable (429, 5xx,
    timeouts, refused credentials; not a refusal of the request itself). Aggregate and per upstream."""
    started = clock()
    failed = False
    try:
        yield
    except ProviderUnavailable:
        failed = True
        raise
    finally:
        latency = (clock() - started) * 1000
        values = {names.PROVIDER_CALLS: (1.0, MetricUnit.Count),
                  names.PROVIDER_LATENCY: (latency, MetricUnit.Milliseconds)}
        if failed:
            values[names.PROVIDER_FAILURES] = (1.0, MetricUnit.Count)
        for name, (amount, unit) in values.items():
            _add(name, amount, unit)
        _with_dimension(names.UPSTREAM, upstream, values)


# ---- money and refusals ----------------------------------------------------------------------------------------

def cost_charged(micros: int) -> None:
    if micros > 0:
        _add(names.COST_CHARGED, micros)


def request_refused(error: RetouchError) -> None:
    """An HTTP request answered with a domain error: counts the refusals operators watch (credit, rate limits)."""
    if isinstance(error, InsufficientCredits):
        _add(names.CREDIT_REFUSALS)
    elif isinstance(error, (RateLimited, ConcurrencyLimited)):
        _add(names.RATE_LIMITED)


# ---- webhooks --------------------------------------------------------------------------------------------------

def webhook_attempted(*, delivered: bool) -> None:
    """One delivery attempt of one event: delivered (2xx) or failed (anything else, 410 included)."""
    _add(names.WEBHOOK_DELIVERIES if delivered else names.WEBHOOK_FAILURES)


# ---- payments --------------------------------------------------------------------------------------------------

def payment_credited(micros: int) -> None:
    _add(names.PAYMENTS_CREDITED, micros)


def payment_reversed(micros: int, *, balance_after_micros: int | None) -> None:
    """A refund or dispute took `micros` back; one that left the balance below zero raises the operator's alarm."""
    _add(names.PAYMENTS_REVERSED, micros)
    if balance_after_micros is not None and balance_after_micros < 0:
        _add(names.ACCOUNTS_IN_ARREARS)


def stripe_signature_refused() -> None:
    _add(names.STRIPE_SIGNATURES_REFUSED)


def auto_recharge_disabled(reason: str) -> None:
    """Auto-recharge turned itself off (`reason`: payment_failed, monthly_cap_reached, no_saved_card)."""
    _add(names.AUTO_RECHARGES_DISABLED)
