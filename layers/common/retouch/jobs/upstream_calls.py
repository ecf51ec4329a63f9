"""Calling a job's upstreams: in the routing document's order, past those whose circuit is open, falling back.

- provider_unavailable (5xx, 429, timeouts, an upstream job that failed) on one upstream: the next one is tried at
  once, in the same delivery. When none is left the job is retried later as before (jobs/process.py), from the
  first upstream again.
- provider_auth_failed (401/403, a wrong key): logged as an error naming the upstream (never the key), and that
  upstream is not called again for this job; the next one is tried.
- A refusal (safety, invalid input): the job fails; it is never sent elsewhere. An upstream whose documented
  capabilities cannot serve the request (too many images, a size it lacks) is passed over before any call; only when
  none can does the job fail (`unsupported_by_upstream`).
- An asynchronous upstream's `Pending` ends the delivery: the caller stores the poll handle and a delayed message
  brings the job back to `poll_pending` (no function waits for the model).

Every call is recorded on the job as an `UpstreamAttempt`, and counted by the upstream's circuit breaker, for the
job's account, by what it says of the upstream's health (`health`): only 5xx, unreachable, timed out or an unusable
answer count as failures; a refusal, a 429 (slow down: the job falls through and is retried after `retry_after`) and
an asynchronous job that ended "failed" are answers; an unclassified error counts for nothing. A call that
failed (or left the job pending) is written at once, and the write checks the claim, so a worker that lost its job
never pays for another submit. Attempts that called nothing (an upstream passed over as unsupported or with its
circuit open) ride on the next write instead; the succeeded call rides on the caller's checkpoint of the outputs
(`Served.unsaved`, jobs/process.py), or is written alone if those are not stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from retouch.errors import JobFailure
from retouch.jobs.side_work import SideWork
from retouch.models.records import (
    AttemptOutcome,
    JobRecord,
    PendingCall,
    UpstreamAttempt,
)
from retouch.observability.metrics import provider_call
from retouch.providers.base import (
    InputImage,
    ProviderAuthFailed,
    ProviderRefused,
    ProviderUnavailable,
)
from retouch.providers.call_timeout import sized_call_timeout
from retouch.providers.callbacks import TakesCallbacks, callback_path
from retouch.providers.partials import PartialSink, StreamsPartials
from retouch.providers.upstream import (
    Finished,
    Outcome,
    Pending,
    PollHandle,
    UpstreamAdapter,
    refusal,
)
from retouch.routing.breaker import Admission, CircuitBreaker
from retouch.routing.paid_attempts import (
    MAX_UNSERVED_PAID_CALLS,
    call_timeout_seconds,
    is_possibly_paid,
    known_slow,
    unserved_so_far,
)

logger = Logger(child=True)

# An asynchronous job is given up on (and the next upstream tried) after this long, or this many failed polls in a row.
MAX_PENDING_SECONDS = 1800
MAX_POLL_ERRORS = 3
MAX_POLL_DELAY_SECONDS = 900  # SQS DelaySeconds' maximum
# A failed poll is tried again after this long (the upstream's status endpoint hiccuped, not its job).
POLL_ERROR_DELAY_SECONDS = 15
# An upstream job that failed (rather than a status check that did): the next upstream, not another poll.
_UPSTREAM_JOB_ENDED = frozenset({"provider_job_failed", "provider_auth_failed"})


# What counts against an upstream's breaker: it is down. Any other ProviderUnavailable it answered (a 429, a failed
# job); auth failures count as down (a wrong key fails every tenant's calls alike).
_OUTAGES = frozenset({"provider_error", "provider_timeout", "provider_connection_error", "provider_bad_response",
                      "provider_unavailable", "provider_auth_failed"})


def health(exc: ProviderUnavailable) -> bool:
    """What a failed call says of the upstream, for its breaker: False, it is down; True, it answered."""
    return exc.code not in _OUTAGES


class LostClaim(Exception):
    """The job's claim was lost mid-walk (recording an attempt failed its condition): the job is another worker's
    now, so nothing more is submitted (each submit is paid) and the caller ends the delivery."""


@dataclass(frozen=True)
class Upstream:
    """One entry of a model's route: its name (the breaker's key), its adapter (built on first use: httpx and the
    key are loaded then), and what an image costs there when it does not say (micro-dollars, an estimate)."""

    name: str
    adapter: Callable[[], UpstreamAdapter]
    cost_per_image_micros: int | None = None


@dataclass(frozen=True)
class Served:
    """The upstream that served the job and its answer; `unsaved`: the attempts not written yet (the succeeded call,
    and any passed over before it), which the caller writes with its checkpoint (or with `save_attempts`)."""

    finished: Finished
    upstream: Upstream
    unsaved: tuple[UpstreamAttempt, ...] = ()

    @property
    def cost_micros(self) -> int | None:
        """What the upstream charged: as it reported, else the route's per-image estimate."""
        if self.finished.cost_micros is not None:
            return self.finished.cost_micros
        per_image = self.upstream.cost_per_image_micros
        return per_image * len(self.finished.result.images) if per_image is not None else None


@dataclass(frozen=True)
class Waiting:
    """An asynchronous upstream accepted the job: poll `pending` after `delay_seconds`."""

    pending: PendingCall
    delay_seconds: int


@dataclass(frozen=True)
class RoutingDeps:
    """What routing needs from the worker: the job table (to record attempts), the breaker, the route per model id,
    and the clock (epoch seconds) that times calls and pending jobs."""

    # Appends attempts to the claimed job in one write: (job_id, token, attempts) -> still claimed.
    record_attempts: Callable[[str, str, Sequence[UpstreamAttempt]], bool]
    breaker: CircuitBreaker
    upstreams: Callable[[str], Sequence[Upstream]]
    clock: Callable[[], float] = time.time
    # The longest wait before a poll (the upstream's eta, capped): SQS's maximum delay, or less (UpstreamPollDelayMax).
    max_poll_delay_seconds: int = MAX_POLL_DELAY_SECONDS
    # Where upstreams that call back say a job is done (the HTTP API's URL); None: polls only.
    callback_base_url: str | None = None
    # The upstreams' configured timeout, which each call's is sized within (routing/paid_attempts.py); None: not sized.
    call_timeout_seconds: float | None = None

    def poll_delay(self, eta_seconds: int) -> int:
        return max(1, min(self.max_poll_delay_seconds, MAX_POLL_DELAY_SECONDS, int(eta_seconds)))


class _Pass:
    """One walk down a job's route, from `start`. A served call's success is counted on its breaker as side work
    (nothing in the walk waits on it); failures are counted at once, since they decide whether the next call goes."""

    def __init__(self, job: JobRecord, token: str, deps: RoutingDeps, side: SideWork,
                 partials: PartialSink | None = None) -> None:
        self.job = job
        self.partials = partials
        self.token = token
        self.deps = deps
        self.side = side
        self.route = list(deps.upstreams(job.model))
        self.shut_out = {a.upstream for a in job.upstream_attempts if a.outcome == "auth_failed"}
        self.last_error: ProviderUnavailable | None = None
        self.tried: list[UpstreamAttempt] = []
        self.unsaved: list[UpstreamAttempt] = []  # recorded here, not yet written to the job
        self.unsupported: list[str] = []  # why upstreams passed over could not serve the request

    def record(self, upstream: str, outcome: AttemptOutcome, *, code: str | None = None,
               upstream_job_id: str | None = None, cost_micros: int | None = None,
               latency_ms: int | None = None, write: bool = True) -> None:
        """Record an attempt; written now (with any unsaved before it) unless `write` is False."""
        attempt = UpstreamAttempt(upstream=upstream, outcome=outcome, code=code, upstream_job_id=upstream_job_id,
                                  cost_micros=cost_micros, latency_ms=latency_ms, at=int(self.deps.clock()))
        attempt.possibly_paid = is_possibly_paid(attempt)
        self.job.upstream_attempts.append(attempt)
        self.tried.append(attempt)
        self.unsaved.append(attempt)
        if write:
            self.save()

    def save(self) -> None:
        """Write the unsaved attempts; LostClaim when the job is no longer this worker's."""
        if not self.unsaved:
            return
        attempts, self.unsaved = self.unsaved, []
        if not self.deps.record_attempts(self.job.job_id, self.token, attempts):
            logger.warning("claim lost while calling upstreams; stopping", extra={
                "job_id": self.job.job_id, "upstream": attempts[-1].upstream, "outcome": attempts[-1].outcome})
            raise LostClaim(self.job.job_id)

    def unavailable(self, upstream: Upstream, admission: Admission, exc: ProviderUnavailable,
                    latency_ms: int | None, upstream_job_id: str | None = None) -> None:
        """A failure another upstream may not have: count it, remember it, and move on."""
        self.failed(upstream, exc, latency_ms, upstream_job_id)
        self.deps.breaker.record(upstream.name, admission, ok=health(exc), account=self.job.account_id)

    def failed(self, upstream: Upstream, exc: ProviderUnavailable, latency_ms: int | None,
               upstream_job_id: str | None = None) -> None:
        if isinstance(exc, ProviderAuthFailed):
            self.shut_out.add(upstream.name)
            # Loud: an operator must fix the key. The message names the upstream and the HTTP status only.
            logger.error("upstream rejected its credentials; not retried on it", extra={
                "job_id": self.job.job_id, "upstream": upstream.name, "code": exc.code, "detail": exc.message})
        else:
            logger.warning("upstream unavailable; trying the next", extra={
                "job_id": self.job.job_id, "upstream": upstream.name, "code": exc.code})
        self.record(upstream.name, "auth_failed" if isinstance(exc, ProviderAuthFailed) else "unavailable",
                    code=exc.code, upstream_job_id=upstream_job_id, latency_ms=latency_ms)
        self.last_error = exc

    def run(self, start: int, images: list[InputImage], mask: InputImage | None,
            options: dict[str, object]) -> Served | Waiting:
        configured = self.deps.call_timeout_seconds
        timeout = call_timeout_seconds(self.job, configured) if configured is not None else None
        slow = configured is not None and known_slow(self.job)
        for index in range(start, len(self.route)):
            upstream = self.route[index]
            if upstream.name in self.shut_out:
                continue
            self.check_paid_budget()
            try:
                adapter = upstream.adapter()
            except ProviderAuthFailed as exc:  # a placeholder key: nothing was called, the breaker learns nothing
                self.failed(upstream, exc, latency_ms=None)
                continue
            problem = refusal(adapter.capabilities, operation="edit" if images else "generation", images=images,
                              mask=mask, options=dict(options))
            if problem is not None:  # nothing called: written with the next attempt that is
                self.record(upstream.name, "skipped", code="unsupported_by_upstream", write=False)
                self.unsupported.append(f"{problem[1]} (parameter '{problem[0]}')")
                continue
            admission = self.deps.breaker.admit(upstream.name)
            if admission == "skip":
                self.record(upstream.name, "skipped", code="circuit_open", write=False)
                continue
            started = self.deps.clock()
            try:
                with provider_call(upstream.name), sized_call_timeout(timeout):
                    outcome = self.submit(adapter, images, mask, dict(options))
            except ProviderRefused as exc:
                self.deps.breaker.record(upstream.name, admission, ok=True,  # it answered: it is up
                                         account=self.job.account_id)
                self.record(upstream.name, "refused", code=exc.code, latency_ms=self._since(started))
                raise
            except ProviderUnavailable as exc:
                if slow and exc.code == "provider_timeout":
                    raise self.slow_timeout(upstream, admission, exc, self._since(started), timeout) from exc
                self.unavailable(upstream, admission, exc, self._since(started))
                continue
            except Exception:
                # Unclassified (a bug, a malformed answer the adapter did not map): says nothing of the upstream's
                # health, so not counted; a probe hands its slot back at once rather than holding it to its lease.
                self.deps.breaker.record(upstream.name, admission, ok=None, account=self.job.account_id)
                raise
            self.answered(upstream.name, admission)
            return self.outcome(index, upstream, outcome)
        self.save()
        raise self.exhausted()

    def submit(self, adapter: UpstreamAdapter, images: list[InputImage], mask: InputImage | None,
               options: dict[str, object]) -> Outcome:
        """The upstream's own streaming when the job asked for partial images and the upstream makes them."""
        if self.partials is not None and isinstance(adapter, StreamsPartials) and adapter.streams_partials:
            return adapter.submit_streaming(images=images, mask=mask, options=options, partials=self.partials)
        callback_base = self.deps.callback_base_url
        if callback_base and isinstance(adapter, TakesCallbacks):
            url = callback_base.rstrip("/") + callback_path(adapter.capabilities.upstream, self.job.job_id)
            return adapter.submit_with_callback(images=images, mask=mask, options=options, callback_url=url)
        return adapter.submit(images=images, mask=mask, options=options)

    def check_paid_budget(self) -> None:
        """Before a call: refuse to pay for another one when the job's possibly-paid calls that served nothing are
        at the bound (routing/paid_attempts.py)."""
        unserved = unserved_so_far(self.job)
        if unserved >= MAX_UNSERVED_PAID_CALLS:
            self.save()
            raise JobFailure("paid_attempts_exhausted",
                             f"The upstreams took {unserved} calls for this job without an image coming back; it is "
                             "not tried again. It was not charged.")

    def slow_timeout(self, upstream: Upstream, admission: Admission, exc: ProviderUnavailable, latency_ms: int,
                     timeout: float | None) -> JobFailure:
        """A request known to be slow timed out: the upstream was most likely still making it (and bills it), so it
        is neither retried nor sent elsewhere. Says nothing of the upstream's health (the breaker counts nothing)."""
        self.deps.breaker.record(upstream.name, admission, ok=None, account=self.job.account_id)
        self.record(upstream.name, "unavailable", code=exc.code, latency_ms=latency_ms)
        logger.warning("slow request timed out; not retried", extra={
            "job_id": self.job.job_id, "upstream": upstream.name, "timeout_seconds": timeout})
        return JobFailure("provider_timeout", f"{upstream.name} did not finish this request within {timeout:g} s; "
                          "it is not retried (a second call would be paid again). It was not charged.")

    def answered(self, upstream: str, admission: Admission) -> None:
        """Count a call the upstream answered: a probe's close is a state change, made now; a plain success is
        only a count, made beside the job's path."""
        breaker, account = self.deps.breaker, self.job.account_id
        if admission == "call":
            self.side.start("breaker-count", lambda: breaker.record(upstream, admission, ok=True, account=account))
        else:
            breaker.record(upstream, admission, ok=True, account=account)

    def outcome(self, index: int, upstream: Upstream, outcome: Outcome) -> Served | Waiting:
        if isinstance(outcome, Pending):
            handle = outcome.handle
            self.record(upstream.name, "pending", upstream_job_id=handle.upstream_job_id)
            previous = self.job.pending_call
            pending = PendingCall(upstream=upstream.name, route_index=index, handle=handle.to_json(),
                                  seq=(previous.seq + 1) if previous else 1,
                                  submitted_at=int(self.deps.clock()))
            return Waiting(pending, self.deps.poll_delay(handle.poll_after_seconds))
        self.record(upstream.name, "succeeded", upstream_job_id=outcome.upstream_job_id,
                    cost_micros=outcome.cost_micros, latency_ms=outcome.latency_ms, write=False)
        unsaved, self.unsaved = tuple(self.unsaved), []
        return Served(outcome, upstream, unsaved)

    def exhausted(self) -> Exception:
        if self.unsupported and all(a.code == "unsupported_by_upstream" for a in self.tried):
            return ProviderRefused("unsupported_by_upstream", "; ".join(self.unsupported))
        tried = ", ".join(f"{a.upstream}: {a.code}" for a in self.tried) or "none callable"
        if self.route and all(upstream.name in self.shut_out for upstream in self.route):
            last = f": {self.last_error.message}" if self.last_error is not None else ""
            return ProviderAuthFailed(f"every upstream of {self.job.model} rejected its credentials ({tried}){last}")
        if self.last_error is None:
            return ProviderUnavailable("provider_unavailable",
                                       f"no upstream of {self.job.model} is available (circuits open: {tried})")
        return ProviderUnavailable(self.last_error.code, f"no upstream of {self.job.model} succeeded ({tried})",
                                   self.last_error.retry_after)

    def _since(self, started: float) -> int:
        return max(round((self.deps.clock() - started) * 1000), 0)


def call_upstreams(job: JobRecord, token: str, deps: RoutingDeps, *, images: list[InputImage],
                   mask: InputImage | None, options: dict[str, object], side: SideWork,
                   start: int = 0, partials: PartialSink | None = None) -> Served | Waiting:
    """Submit the job to its upstreams in order from `start`. Raises ProviderRefused (never sent elsewhere),
    ProviderAuthFailed when every upstream rejected its key for this job, or ProviderUnavailable when none
    succeeded (the job is then retried later). `side`: the delivery's side work (the breaker's success count);
    `partials`: where an upstream that streams hands the partial images the job asked for."""
    return _Pass(job, token, deps, side, partials).run(start, images, mask, options)


def poll_pending(job: JobRecord, token: str, deps: RoutingDeps, *,
                 inputs: Callable[[], tuple[list[InputImage], InputImage | None]],
                 options: dict[str, object], side: SideWork, partials: PartialSink | None = None,
                 ) -> Served | Waiting:
    """Ask the asynchronous upstream about the job once: finished, still pending (poll again), or failed (the next
    upstream is tried from there, like a failed submit)."""
    pending = job.pending_call
    if pending is None:  # only a job waiting on an upstream is polled
        raise ValueError(f"job {job.job_id} has no pending upstream call")
    walk = _Pass(job, token, deps, side, partials)
    route = walk.route
    index = next((i for i, upstream in enumerate(route) if upstream.name == pending.upstream), None)
    handle = PollHandle.from_json(pending.handle)
    if index is None:  # the routing document changed under the job: start it again on the current route
        logger.warning("pending upstream no longer routed; resubmitting", extra={
            "job_id": job.job_id, "upstream": pending.upstream})
        images, mask = inputs()
        return walk.run(0, images, mask, options)
    upstream = route[index]
    waited = int(deps.clock()) - pending.submitted_at
    try:
        with provider_call(upstream.name):
            outcome = upstream.adapter().poll(handle)
    except ProviderRefused as exc:
        walk.record(upstream.name, "refused", code=exc.code, upstream_job_id=handle.upstream_job_id)
        raise
    except ProviderUnavailable as exc:
        if exc.code not in _UPSTREAM_JOB_ENDED and pending.poll_errors + 1 < MAX_POLL_ERRORS:
            logger.warning("poll failed; polling again", extra={"job_id": job.job_id, "upstream": upstream.name,
                                                               "code": exc.code})
            again = pending.model_copy(update={"polls": pending.polls + 1, "poll_errors": pending.poll_errors + 1,
                                               "seq": pending.seq + 1})
            return Waiting(again, deps.poll_delay(POLL_ERROR_DELAY_SECONDS))
        walk.unavailable(upstream, "call", exc, waited * 1000, handle.upstream_job_id)
        images, mask = inputs()
        return walk.run(index + 1, images, mask, options)
    if isinstance(outcome, Pending):
        if waited >= MAX_PENDING_SECONDS:
            # It took the job and may still make (and bill) it: given up without falling back, which would pay twice.
            walk.deps.breaker.record(upstream.name, "call", ok=None, account=job.account_id)
            walk.record(upstream.name, "unavailable", code="provider_timeout", upstream_job_id=handle.upstream_job_id,
                        latency_ms=waited * 1000)
            raise JobFailure("provider_timeout", f"{upstream.name} job {handle.upstream_job_id} did not finish within "
                                                 f"{MAX_PENDING_SECONDS} s; it is not sent elsewhere (that would be "
                                                 "paid again). It was not charged.")
        again = pending.model_copy(update={"handle": outcome.handle.to_json(), "polls": pending.polls + 1,
                                           "poll_errors": 0, "seq": pending.seq + 1})
        return Waiting(again, deps.poll_delay(outcome.handle.poll_after_seconds))
    return walk.outcome(index, upstream, outcome)


def save_attempts(job: JobRecord, token: str, served: Served, deps: RoutingDeps) -> bool:
    """Write what `served` left unsaved, when the outputs will not be checkpointed (their storing failed): the
    upstream was paid, so its call stays on the job. False when the claim was lost."""
    return not served.unsaved or deps.record_attempts(job.job_id, token, served.unsaved)
