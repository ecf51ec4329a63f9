"""Running a job (the worker's logic): claim, load inputs, call its upstreams, store outputs, finish.
(Loading the inputs: jobs/inputs_loading.py; storing the outputs: jobs/outputs_storing.py.)

At-least-once safe: the claim is a conditional write, so a duplicate delivery of a job that is running
or ended does nothing; finishing is conditional on still owning the claim, so a job ends exactly once.
The claim is a short lease renewed by a heartbeat (with the message's visibility), so a dead worker's job
runs again within a lease. Stored outputs are checkpointed on the job before it ends, so a re-run after a
crash finishes without calling the provider again. Failures nobody classified are retried a bounded number
of times, then end the job `failed`.

Upstreams are called in routing order with fallback (jobs/upstream_calls.py). An asynchronous upstream's pending
job does not hold the function: its poll handle is stored on the job (still `running`, unclaimed, watched until
the poll is due plus a lease) and a delayed message (`poll_seq`) brings it back to poll; only the message carrying
the job's current `seq` can claim it, so a duplicate never polls twice.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from retouch.errors import JobFailure
from retouch.jobs.fetch_share import DEFER_SECONDS, FetchShare, fetches_urls
from retouch.jobs.heartbeat import Heartbeat
from retouch.jobs.inputs_loading import load_inputs
from retouch.jobs.outputs_storing import resolved_options, store_outputs
from retouch.jobs.partial_frames import PartialFrames, requested_partials
from retouch.jobs.retention import outputs_prefix, partials_prefix, upstream_inputs_prefix
from retouch.jobs.side_work import SideWork
from retouch.jobs.upstream_calls import (
    LostClaim,
    RoutingDeps,
    Served,
    Waiting,
    call_upstreams,
    poll_pending,
    save_attempts,
)
from retouch.models.common import now_epoch
from retouch.models.outcome import JobOutcome
from retouch.models.records import JobError, JobRecord, ProducedOutputs
from retouch.models.requests import provider_options
from retouch.observability.metrics import job_ended, job_started
from retouch.ports import JobPartials, JobRepository, ObjectStore
from retouch.providers.base import (
    InputImage,
    ProviderAuthFailed,
    ProviderRefused,
    ProviderUnavailable,
)
from retouch.retry import CRASH_SLACK_ATTEMPTS, REDELIVERY_PUSH_TRIES, RedeliverLater, backoff_seconds

if TYPE_CHECKING:
    from retouch.billing.charges import JobBilling

logger = Logger(child=True)

LEASE_MARGIN_SECONDS = 5


@dataclass(frozen=True)
class WorkerDeps:
    jobs: JobRepository
    store: ObjectStore
    # The job's upstreams in routing order, the shared circuit breaker, and where attempts are recorded.
    routing: RoutingDeps
    # Sends the delayed message that polls a pending upstream job: schedule_poll(job_id, seq, delay_seconds).
    schedule_poll: Callable[[str, int, int], None]
    # Fetches an input URL: fetch_url(url, seconds_left); all of a job's URLs share one deadline, url_fetch_seconds.
    fetch_url: Callable[[str, float], bytes]
    max_attempts: int
    retry_base_seconds: float
    lease_seconds: int
    # Queues a job event for webhooks: announce(job, "job.succeeded"); announce(job) re-emits an ended job's.
    announce: Callable[..., None]
    # Settles the job's hold after its terminal transition (once: the transition is conditional).
    billing: JobBilling
    # Each account's share of the workers fetching input URLs; a job over it is deferred (jobs/fetch_share.py).
    fetch_share: FetchShare
    # How often a running job's lease and message are renewed; by default three beats per lease.
    heartbeat_every: float | None = None
    # The whole of a job's input URL fetching (WorkerSettings.url_fetch_timeout_seconds).
    url_fetch_seconds: float = 20
    # Where partial images a streaming upstream sends are recorded (jobs/partial_frames.py); None: not kept.
    partials: JobPartials | None = None

    @property
    def message_hold_seconds(self) -> int:
        """How long a claimed job's message stays invisible per renewal: the lease, and a little past it."""
        return self.lease_seconds + LEASE_MARGIN_SECONDS

    @property
    def heartbeat_seconds(self) -> float:
        return self.heartbeat_every or self.lease_seconds / 3


def _call_upstreams(job: JobRecord, token: str, deps: WorkerDeps, side: SideWork,
                    partials: PartialFrames | None) -> Served | Waiting:
    """Submit to the job's upstreams, or poll the one it is waiting on."""
    options: dict[str, object] = dict(provider_options(job.request))
    with ExitStack() as files:  # the inputs' temporary files go now, not when a later job reuses this environment

        def inputs() -> tuple[list[InputImage], InputImage | None]:
            if job.kind != "edit":
                return [], None
            try:
                loaded = load_inputs(job, deps.store, deps.fetch_url, files, fetch_seconds=deps.url_fetch_seconds)
            finally:  # the account's fetching share is free again once the URLs are in, not when the job ends
                deps.fetch_share.give_back(job)
            if any(source.url for source in (*job.inputs, job.mask) if source is not None):
                # Their sizes, measured now, priced alike by whichever delivery ends the job (a poll, a resume);
                # a lost claim is found by the next write of this delivery.
                deps.jobs.record_input_sizes(job.job_id, token=token, inputs=job.inputs, mask=job.mask)
            return loaded

        if job.pending_call is not None:
            return poll_pending(job, token, deps.routing, inputs=inputs, options=options, side=side,
                                partials=partials)
        images, mask = inputs()
        return call_upstreams(job, token, deps.routing, images=images, mask=mask, options=options, side=side,
                              partials=partials)


def _produce(job: JobRecord, token: str, deps: WorkerDeps, side: SideWork) -> ProducedOutputs | Waiting | None:
    """Call the upstreams, store the images and checkpoint them on the job, with the attempts that served them, in
    one write; Waiting when an asynchronous upstream took the job; None when the claim was lost meanwhile (then what
    this worker stored is deleted: the job is another worker's now). If the images cannot be stored, the paid call is
    written on its own before the failure goes on."""
    partials = (PartialFrames(job, deps.store, deps.partials)
                if deps.partials is not None and requested_partials(job) else None)
    served = _call_upstreams(job, token, deps, side, partials)
    if isinstance(served, Waiting):
        return served
    result = served.finished.result
    try:
        with ExitStack() as held:  # the images' temporary files go once they are stored
            for image in result.images:
                held.callback(image.close)
            if not result.images:
                raise ProviderUnavailable("provider_bad_response", "The provider returned no images.")
            outputs = store_outputs(job, token, result, deps.store)
    except Exception:
        try:
            if not save_attempts(job, token, served, deps.routing):
                logger.warning("claim lost while storing outputs", extra={"job_id": job.job_id})
        except Exception:
            logger.exception("the paid call could not be recorded", extra={"job_id": job.job_id})
        raise
    usage = result.usage or None
    if partials is not None and partials.received:
        # The upstream bills each partial (OpenAI: as output tokens already in its usage); the count is kept with it.
        usage = {**(usage or {}), "partial_images": partials.received}
    resolved = resolved_options(result, outputs, job.request.get("background"))
    produced = ProducedOutputs(outputs=outputs, result=resolved, usage=usage,
                               upstream=served.upstream.name, upstream_cost_micros=served.cost_micros,
                               upstream_cost_reported=served.finished.cost_micros is not None)
    if deps.jobs.record_produced(job.job_id, token=token, produced=produced, attempts=served.unsaved):
        return produced
    deps.store.delete([output.key for output in outputs])
    return None


def _end(job: JobRecord, token: str, outcome: JobOutcome, deps: WorkerDeps) -> bool:
    """The claimed job's terminal transition, then its charge and release (billing/charges.py)."""
    ended = deps.billing.finish(job, token=token, outcome=outcome)
    if ended:
        job_ended(outcome.status, attempts=job.attempts, error_code=outcome.error.code if outcome.error else None)
        deps.announce(job, f"job.{outcome.status}")
    return ended


def _fail(job: JobRecord, token: str, code: str, message: str, deps: WorkerDeps) -> str:
    ended = _end(job, token, JobOutcome.failed(code, message, at=now_epoch()), deps)
    logger.warning("job failed", extra={"job_id": job.job_id, "code": code, "ended": ended})
    return "failed" if ended else "lost_claim"


def _retry(job: JobRecord, token: str, error: JobError, delay: int, deps: WorkerDeps) -> str:
    """Back to `queued`; the message comes back after `delay` (raises RedeliverLater), unless the claim was lost."""
    if not deps.jobs.release_for_retry(job.job_id, token=token, error=error, retry_at=now_epoch() + delay):
        current = deps.jobs.get(job.job_id)
        # The release committed but its answer was lost (the SDK's retry then fails its condition): this
        # message is still the job's, so it must come back, not be deleted as if another worker had the job.
        if current is None or current.status != "queued" or current.claim_token is not None:
            return "lost_claim"
    logger.warning("job released for a retry", extra={"job_id": job.job_id, "attempt": job.attempts,
                                                      "code": error.code, "delay_seconds": delay})
    raise RedeliverLater(delay)


def _wait(job: JobRecord, token: str, waiting: Waiting, deps: WorkerDeps) -> str:
    """Store the poll handle and release the claim, then send the message that polls after the upstream's eta.
    Watched until the poll is due plus a lease: if the message is lost, the sweeper sends the job another."""
    lease_until = now_epoch() + waiting.delay_seconds + deps.lease_seconds
    if not deps.jobs.wait_for_poll(job.job_id, token=token, pending=waiting.pending, lease_until=lease_until):
        return "lost_claim"
    try:
        deps.schedule_poll(job.job_id, waiting.pending.seq, waiting.delay_seconds)
    except Exception:
        logger.exception("poll message not sent; the sweeper will bring the job back", extra={"job_id": job.job_id})
    logger.info("job waiting on its upstream", extra={"job_id": job.job_id, "upstream": waiting.pending.upstream,
                                                      "poll_in_seconds": waiting.delay_seconds,
                                                      "polls": waiting.pending.polls})
    return "waiting"


def _run_claimed(job: JobRecord, token: str, deps: WorkerDeps, side: SideWork) -> str:
    try:
        produced = job.produced or _produce(job, token, deps, side)
    except LostClaim:
        return "lost_claim"
    except (JobFailure, ProviderRefused) as exc:
        return _fail(job, token, exc.code, exc.message, deps)
    except ProviderAuthFailed as exc:  # every upstream of the model rejected its key: retrying cannot help
        logger.error("PROVIDER KEY REFUSED: ending the job provider_auth_failed; set a working key (docs/operations.md"
                     "#provider-key)", extra={"job_id": job.job_id, "reason": exc.message})
        return _fail(job, token, exc.code, exc.message, deps)
    except ProviderUnavailable as exc:
        if job.attempts >= deps.max_attempts:
            return _fail(job, token, "provider_unavailable",
                         f"The image provider did not succeed after {job.attempts} attempts: {exc.message}", deps)
        delay = backoff_seconds(job.attempts, deps.retry_base_seconds, exc.retry_after)
        return _retry(job, token, JobError(code=exc.code, message=exc.message), delay, deps)
    if produced is None:
        return "lost_claim"
    if isinstance(produced, Waiting):
        return _wait(job, token, produced, deps)
    ended = _end(job, token, JobOutcome.succeeded(produced, at=now_epoch()), deps)
    logger.info("job succeeded" if ended else "job finished elsewhere",
                extra={"job_id": job.job_id, "images": len(produced.outputs)})
    return "succeeded" if ended else "lost_claim"


def _after_unexpected(job: JobRecord, token: str, exc: Exception, deps: WorkerDeps) -> str:
    """An unclassified failure (S3, DynamoDB, a bug): retried like a provider outage, a bounded number of times,
    then the job ends `failed` with `processing_failed` (never a message that waits hours in the queue)."""
    logger.exception("job attempt failed unexpectedly", extra={"job_id": job.job_id, "attempt": job.attempts})
    if job.attempts >= deps.max_attempts:
        return _fail(job, token, "processing_failed",
                     f"The job could not be processed after {job.attempts} attempts; it was not charged.", deps)
    error = JobError(code="processing_error", message=f"{type(exc).__name__} while processing; retrying.")
    return _retry(job, token, error, backoff_seconds(job.attempts, deps.retry_base_seconds), deps)


def _run_claimed_once(job: JobRecord, token: str, deps: WorkerDeps, side: SideWork, *, polling: bool) -> str:
    """Announce the start (not again for a poll), then run, unless the job was claimed so often without an end that
    its workers keep dying (killed at their timeout, out of memory): then it ends `failed` instead of paying the
    provider again."""
    if job.attempts > deps.max_attempts + CRASH_SLACK_ATTEMPTS and job.produced is None:
        return _fail(job, token, "processing_failed",
                     f"The job was started {job.attempts} times without finishing; it was not charged.", deps)
    if not polling:
        deps.announce(job, "job.started")
    return _run_claimed(job, token, deps, side)


def _renew(job: JobRecord, token: str, deps: WorkerDeps, keep_message: Callable[[int], None]) -> bool:
    if not deps.jobs.renew_lease(job.job_id, token=token, lease_until=now_epoch() + deps.lease_seconds):
        return False
    keep_message(deps.message_hold_seconds)
    return True


def _skip(job_id: str, now: int, deps: WorkerDeps) -> str:
    existing = deps.jobs.get(job_id)
    state = existing.status if existing else "missing"
    logger.info("delivery skipped", extra={"job_id": job_id, "status": state})
    if existing is not None and existing.is_terminal:
        deps.announce(existing)  # its event, if a crash after the finish kept it from being queued
    if existing is not None and existing.status == "running" and existing.lease_until:
        # Another worker holds it. Keep this message until the lease ends: if that worker dies, this
        # may be the job's only message, and it re-claims the job then.
        raise RedeliverLater(max(1, existing.lease_until - now + LEASE_MARGIN_SECONDS))
    return f"skipped_{state}"


def _keep_nothing(_seconds: int) -> None:
    pass


def _discard_unrecorded_outputs(job: JobRecord, deps: WorkerDeps) -> None:
    """On a re-claim: delete what earlier claims stored but never checkpointed (a worker killed between storing its
    images and recording them cannot clean up after itself). Safe under this claim: no earlier claim can record
    outputs any more, and one still running deletes its own when its checkpoint fails."""
    kept = {output.key for output in (job.produced.outputs if job.produced else [])}
    staged = upstream_inputs_prefix(job.job_id)  # inputs a pending upstream job may still fetch: not outputs
    previews = partials_prefix(job.job_id)  # partial images the job's event log names: kept
    try:
        stale = [key for key in deps.store.keys_under(outputs_prefix(job.job_id))
                 if key not in kept and not key.startswith((staged, previews))]
        deps.store.delete(stale)
    except Exception:
        logger.exception("could not delete earlier claims' outputs", extra={"job_id": job.job_id})
        return
    if stale:
        logger.info("earlier claims' unrecorded outputs deleted", extra={"job_id": job.job_id, "count": len(stale)})


def _skip_poll(job_id: str, poll_seq: int, deps: WorkerDeps) -> str:
    """A poll message that could not claim its job: the job ended, or moved on to another poll (this message is a
    duplicate or outlived a retry). Either way another message, or the sweeper, carries the job."""
    existing = deps.jobs.get(job_id)
    if existing is not None and existing.is_terminal:
        deps.announce(existing)
    logger.info("poll message dropped", extra={"job_id": job_id, "poll_seq": poll_seq,
                                               "status": existing.status if existing else "missing"})
    return "skipped_poll"


def _claim_stray_poll(job_id: str, token: str, now: int, deps: WorkerDeps) -> JobRecord | None:
    """A poll message that is no longer its job's poll may still be the job's only message: a retry decided while
    polling queued the job again and delayed this very message; a worker that died mid-poll left its claim behind.
    So it claims the job as any delivery would (queued, or running with an expired lease): the claim is conditional,
    so a stale duplicate of a job that another message or worker carries still claims nothing."""
    job = deps.jobs.claim(job_id, token=token, now=now, lease_until=now + deps.lease_seconds)
    if job is not None:
        logger.info("poll message claimed its job as a plain delivery", extra={"job_id": job_id,
                                                                               "attempt": job.attempts})
        job_started(job_id, job.account_id, attempts=job.attempts, created_at=job.created_at, now=now)
    return job


def run_job(job_id: str, deps: WorkerDeps, keep_message: Callable[[int], None] = _keep_nothing,
            poll_seq: int | None = None, may_fetch_urls: bool | None = None) -> str:
    """Run one delivery of `job_id`; returns what happened (for logs and tests). `keep_message(seconds)` keeps the
    delivering message invisible that much longer (the heartbeat calls it with each lease renewal). `poll_seq`: the
    delivery is the delayed message that polls the job's pending upstream call number `poll_seq`.

    A job that will fetch input URLs first takes a share of its account's fetching workers; over the share, the
    delivery is deferred (a new, delayed message) before anything of the job changes (jobs/fetch_share.py). Finding
    that out takes a read of the job, unless the message says the job fetches none (`may_fetch_urls` False)."""
    if poll_seq is not None or may_fetch_urls is False:
        return _run_job(job_id, deps, keep_message, poll_seq)
    waiting = deps.jobs.get(job_id)
    if waiting is None or waiting.is_terminal or not fetches_urls(waiting):
        return _run_job(job_id, deps, keep_message, poll_seq)
    if not deps.fetch_share.take(waiting, now_epoch()):
        return _defer(waiting, deps)
    try:
        return _run_job(job_id, deps, keep_message, poll_seq)
    finally:
        deps.fetch_share.give_back(waiting)


def _defer(job: JobRecord, deps: WorkerDeps) -> str:
    """The job's account has its share of fetching workers in use: a new message brings the job back later (this one
    is deleted, so no receive is spent towards the dead-letter queue); if it cannot be sent, this one comes back."""
    try:
        deps.fetch_share.defer(job)
    except Exception:
        logger.exception("deferred message not sent; this one comes back instead", extra={"job_id": job.job_id})
        raise RedeliverLater(DEFER_SECONDS) from None
    logger.info("job deferred: its account's share of the fetching workers is in use",
                extra={"job_id": job.job_id, "account_id": job.account_id, "delay_seconds": DEFER_SECONDS})
    return "deferred"


def _run_job(job_id: str, deps: WorkerDeps, keep_message: Callable[[int], None], poll_seq: int | None) -> str:
    now = now_epoch()
    token = secrets.token_hex(8)
    if poll_seq is None:
        job = deps.jobs.claim(job_id, token=token, now=now, lease_until=now + deps.lease_seconds)
        if job is None:
            return _skip(job_id, now, deps)
        job_started(job_id, job.account_id, attempts=job.attempts, created_at=job.created_at, now=now)
    else:
        job = deps.jobs.claim_poll(job_id, token=token, seq=poll_seq, lease_until=now + deps.lease_seconds)
        if job is None:
            job = _claim_stray_poll(job_id, token, now, deps)
            if job is None:
                return _skip_poll(job_id, poll_seq, deps)
            poll_seq = None  # from here a plain delivery: the job is run (or its pending call polled) as after a claim
    logger.info("job claimed", extra={"job_id": job_id, "attempt": job.attempts, "kind": job.kind,
                                      "resumed": job.produced is not None, "poll_seq": poll_seq})
    side = SideWork(job_id)  # joined before this delivery returns or raises (its message's fate is decided after)
    try:
        # From the queue's long visibility timeout down to the lease, so a dead worker's job comes back in minutes:
        # beside the job's path (the heartbeat renews it long before a lease ends, and a failure only leaves the
        # message on the queue's own timeout, as before).
        side.start("shorten-visibility", lambda: keep_message(deps.message_hold_seconds))
        return _run_delivery(job, token, deps, keep_message, side, polling=poll_seq is not None)
    finally:
        side.join()


def _run_delivery(job: JobRecord, token: str, deps: WorkerDeps, keep_message: Callable[[int], None],
                  side: SideWork, *, polling: bool) -> str:
    """The claimed job's run, under its heartbeat."""
    if job.attempts > 1:  # only an earlier claim can have left outputs behind
        _discard_unrecorded_outputs(job, deps)
    ended = threading.Event()  # no beat may touch the message once this delivery decided its fate

    def beat() -> bool:
        return _renew(job, token, deps, lambda seconds: None if ended.is_set() else keep_message(seconds))

    with Heartbeat(beat, deps.heartbeat_seconds, name=f"heartbeat-{job.job_id}"):
        try:
            outcome = _run_claimed_once(job, token, deps, side, polling=polling)
        except RedeliverLater:
            raise
        except Exception as exc:  # noqa: BLE001 - anything unclassified is retried a bounded number of times
            outcome = _after_unexpected(job, token, exc, deps)
        finally:
            ended.set()
    if outcome == "lost_claim":
        # Ended elsewhere, or by this worker's own write whose answer was lost: queue the job's terminal event if
        # it is not queued yet (announcing is idempotent), so no ended job goes without its event.
        deps.announce(job.job_id)
    return outcome


def handle_delivery(job_id: str, receipt_handle: str, deps: WorkerDeps, delay_redelivery: Callable[[str, int], None],
                    poll_seq: int | None = None, may_fetch_urls: bool | None = None) -> str:
    """One queue message: run the job; on a transient failure push the message's next delivery out, then fail it.
    If pushing it out fails, the message still comes back within the lease (the heartbeat shortened it)."""
    def keep_message(seconds: int) -> None:
        delay_redelivery(receipt_handle, seconds)

    try:
        return run_job(job_id, deps, keep_message, poll_seq, may_fetch_urls)
    except RedeliverLater as retry:
        for attempt in range(REDELIVERY_PUSH_TRIES):
            try:
                delay_redelivery(receipt_handle, retry.delay_seconds)
                break
            except Exception:
                logger.exception("could not delay the message", extra={"job_id": job_id, "try": attempt + 1})
        raise
