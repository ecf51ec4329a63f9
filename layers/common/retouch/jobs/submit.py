"""Submitting a job: check inputs, store them, write the job `queued`, enqueue it. All or nothing."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from retouch.errors import QueueUnavailable, RetouchError
from retouch.images.input_checks import CheckedImage
from retouch.jobs.fetch_share import fetches_urls
from retouch.jobs.idempotency import KeyedRequest, settle_reservation
from retouch.jobs.late_holds import watch_for_late_hold
from retouch.jobs.request_checks import CheckedInput, CheckedRequest, check_request
from retouch.models.account_records import AccountRecord
from retouch.models.common import JobKind, new_job_id, now_epoch
from retouch.models.idempotency import IdempotencyRecord
from retouch.models.records import JobError, JobRecord, StoredInput
from retouch.models.requests import EditRequest, GenerationRequest, ImageOptions
from retouch.models.webhooks import JobWebhook
from retouch.observability.metrics import job_submitted
from retouch.ports import FileRepository, IdempotencyStore, JobQueue, JobRepository, KeyTaken, ObjectStore
from retouch.retry import ABANDON_TRIES

if TYPE_CHECKING:
    from retouch.billing.charges import JobBilling
    from retouch.billing.rate_limit import Admission
    from retouch.routing.support import UpstreamSupport

logger = Logger(child=True)

JOB_RETENTION_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True)
class SubmitDeps:
    jobs: JobRepository
    store: ObjectStore
    queue: JobQueue
    files: FileRepository  # uploaded files named by `file_id`, checked at submit
    # Holds the job's price on the account before the job may run (billing/charges.py).
    billing: JobBilling
    # The job's webhook (URL vetted, events chosen) or None; see retouch.webhooks.subscribe.
    webhook_for: Callable[[str, ImageOptions], JobWebhook | None]
    # What the model's routed upstreams can do: a request none can serve is refused here (400), not in the worker.
    upstream_support: UpstreamSupport
    # Idempotency-Key records: reserved with the job, completed once it is queued (see jobs/idempotency).
    keys: IdempotencyStore | None = None


def _stored(checked: CheckedInput, stem: str, uploads: dict[str, CheckedImage]) -> StoredInput:
    """A checked input as the job names it; bytes read whole are added to `uploads` under `stem`, to be stored."""
    if checked.file is not None:
        return checked.file.stored
    if checked.url is not None:
        return StoredInput(url=checked.url)
    if checked.image is None:  # never: an input declared by its size alone is a quote's
        raise ValueError("a submitted input has neither bytes, a URL nor a file")
    image = checked.image
    key = f"{stem}.{image.extension}"
    uploads[key] = image
    return StoredInput(key=key, content_type=image.info.content_type, bytes=len(image.data),
                       width=image.info.width, height=image.info.height)


def _new_record(account_id: str, job_id: str, kind: JobKind, request: GenerationRequest | EditRequest,
                checked: CheckedRequest, client_token_id: str | None) -> JobRecord:
    now = now_epoch()
    return JobRecord(
        job_id=job_id,
        account_id=account_id,
        kind=kind,
        status="queued",
        model=request.model,
        request=request.job_request(),
        metadata=request.metadata,
        created_at=now,
        expires_at=now + JOB_RETENTION_SECONDS,
        webhook=checked.webhook,
        end_user=request.user,
        client_token_id=client_token_id,
    )


def _create(record: JobRecord, deps: SubmitDeps, account: AccountRecord, key: IdempotencyRecord | None) -> None:
    deps.billing.reserve(record, account, key=key)  # job and key, hold, entry: 402/429 leave nothing behind


# Puts of one request's inputs at once (up to 16 images and a mask): their uploads overlap instead of queueing.
MAX_CONCURRENT_PUTS = 4


def _store_inputs(uploads: dict[str, CheckedImage], store: ObjectStore) -> list[str]:
    """Store every input, several at once; all or nothing: when one put fails, the others are waited for and what
    was stored is deleted before the failure is raised. Returns the keys written."""
    def put(key: str) -> str:
        image = uploads[key]
        store.put(key, image.data, image.info.content_type)
        return key

    if len(uploads) <= 1:
        return [put(key) for key in uploads]
    with ThreadPoolExecutor(min(len(uploads), MAX_CONCURRENT_PUTS), thread_name_prefix="put-input") as pool:
        futures = [pool.submit(put, key) for key in uploads]
    failures = [error for error in (future.exception() for future in futures) if error is not None]
    if failures:
        store.delete([future.result() for future in futures if future.exception() is None])
        raise failures[0]
    return [future.result() for future in futures]


class _InputsBeingStored:
    """The inputs' puts, started beside the job's write and hold (neither needs the other, and the message that
    lets a worker read the inputs is sent only once both are done): the submit waits for the slower, not the sum.
    Leaving the `with` waits for the puts, whatever happened, so none runs on in a frozen environment."""

    def __init__(self, uploads: dict[str, CheckedImage], store: ObjectStore) -> None:
        self._store = store
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="store-inputs") if uploads else None
        self._stored: Future[list[str]] | None = (self._pool.submit(_store_inputs, uploads, store)
                                                  if self._pool is not None else None)

    def __enter__(self) -> _InputsBeingStored:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def result(self) -> list[str]:
        """The keys written once every put ended; raises the puts' failure (what was stored is deleted then)."""
        return self._stored.result() if self._stored is not None else []

    def undo(self) -> None:
        """Wait for the puts and delete what they stored (the job was refused or not written)."""
        try:
            written = self.result()
        except Exception:  # noqa: BLE001 - the refusal or write failure is what the caller raises
            return  # a failed store deleted its own puts
        self._store.delete(written)


def _abandon(record: JobRecord, error: JobError, deps: SubmitDeps) -> bool:
    """End the never-queued job and release its hold, trying a few times; False if it could not be ended."""
    for attempt in range(ABANDON_TRIES):
        try:
            return deps.billing.release_unfinished(record.job_id, error=error, now=now_epoch(), job=record)
        except Exception:
            logger.exception("could not end the unqueued job", extra={"job_id": record.job_id, "try": attempt + 1})
    return False


def _create_or_undo(record: JobRecord, deps: SubmitDeps, account: AccountRecord, key: IdempotencyRecord | None,
                    inputs: _InputsBeingStored) -> None:
    """Write the job with its hold; when it is refused or not written, the inputs being stored are deleted."""
    try:
        _create(record, deps, account, key)
    except (RetouchError, KeyTaken):  # refused (credit, limits, contention, conflict, key): nothing was written
        inputs.undo()
        raise
    except Exception:
        # DynamoDB unreachable, the SDK's retries spent: the write may have committed. A job that exists goes on
        # (queued, answered 202: the client must not pay for a second one); one that does not is cleaned up.
        # If even the read fails, the inputs stay and the sweeper queues the job should it exist.
        existing = deps.jobs.get(record.job_id)
        if (existing is not None and existing.hold_pending is not None
                and not deps.billing.complete_hold(existing)):
            watch_for_late_hold(deps.queue, existing)  # the hold's own request may still land
            existing = None  # written, but its hold was never taken: deleted now
        if existing is None:
            inputs.undo()
            raise
        logger.warning("the job write failed but had committed; going on", extra={"job_id": record.job_id})


def _stored_or_ended(record: JobRecord, deps: SubmitDeps, key: IdempotencyRecord | None,
                     inputs: _InputsBeingStored) -> list[str]:
    """The stored inputs' keys; when they could not be stored, the job (holding its price, never queued) is ended
    and released in full, as when it cannot be queued, and the failure goes on."""
    try:
        return inputs.result()
    except Exception:
        logger.exception("inputs not stored; ending the job", extra={"job_id": record.job_id})
        if _abandon(record, JobError(code="storage_unavailable", message="The job's inputs could not be stored."),
                    deps):
            settle_reservation(deps.keys, key, queued=False)  # ended unqueued: a retry makes a new job
        raise


def _persist_and_enqueue(record: JobRecord, uploads: dict[str, CheckedImage], deps: SubmitDeps,
                         admission: Admission, idempotency: KeyedRequest | None) -> JobRecord:
    """Write the inputs and, meanwhile, the job (with its key and hold), then the message; undo what was written
    when a step fails. The admission's account (as the rate limit read it) is the reservation's first read."""
    account = deps.billing.precheck(record, admission.account)  # refuse before storing any input
    reservation = idempotency.reservation(record.job_id, now=now_epoch()) if idempotency else None
    with _InputsBeingStored(uploads, deps.store) as inputs:
        _create_or_undo(record, deps, account, reservation, inputs)
        written = _stored_or_ended(record, deps, reservation, inputs)
    try:
        deps.queue.send(record.job_id, tenant=record.account_id, fetches_urls=fetches_urls(record))
    except QueueUnavailable:
        logger.error("enqueue failed; ending the job", extra={"job_id": record.job_id})
        if _abandon(record, JobError(code="queue_unavailable", message="The job could not be queued."), deps):
            deps.store.delete(written)
            settle_reservation(deps.keys, reservation, queued=False)  # the job ended unqueued: a retry makes a new one
            raise
        # It could not be ended either: it stays queued with its inputs and its hold, and the sweeper queues it
        # within minutes. It exists and will run, so the client is told so (a 503 would invite a second job).
        logger.warning("job left for the sweeper to queue", extra={"job_id": record.job_id})
    else:
        logger.info("job queued", extra={"job_id": record.job_id, "kind": record.kind,
                                         "account_id": record.account_id})
    settle_reservation(deps.keys, reservation, queued=True)
    job_submitted(record.job_id, record.account_id)
    return record


def submit_generation(admission: Admission, request: GenerationRequest, deps: SubmitDeps,
                      idempotency: KeyedRequest | None = None, client_token_id: str | None = None) -> JobRecord:
    """Submit for the admitted request's account (for `request.user`, its end user, when named; by a device token
    when `client_token_id`)."""
    account_id = admission.account.account_id
    checked = check_request(account_id, request, deps)
    record = _new_record(account_id, new_job_id(), "generation", request, checked, client_token_id)
    return _persist_and_enqueue(record, {}, deps, admission, idempotency)


def submit_edit(admission: Admission, request: EditRequest, deps: SubmitDeps,
                idempotency: KeyedRequest | None = None, client_token_id: str | None = None) -> JobRecord:
    account_id = admission.account.account_id
    # A device token may name only its own end user's uploads.
    checked = check_request(account_id, request, deps, owner=request.user if client_token_id is not None else None)
    job_id = new_job_id()
    prefix = f"inputs/{account_id}/{job_id}"
    uploads: dict[str, CheckedImage] = {}
    record = _new_record(account_id, job_id, "edit", request, checked, client_token_id)
    record.inputs = [_stored(image, f"{prefix}/image_{index}", uploads) for index, image in enumerate(checked.images)]
    record.mask = _stored(checked.mask, f"{prefix}/mask", uploads) if checked.mask is not None else None
    return _persist_and_enqueue(record, uploads, deps, admission, idempotency)
