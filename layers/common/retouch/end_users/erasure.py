"""Erasing an end user (a privacy request): every input, output and upload of theirs, and the webhook delivery records
of their jobs, go; each job keeps its billing tombstone (usage and the ledger still count it), as `DELETE
/v1/jobs/{id}` leaves it.

`DELETE /v1/end_users/{user}` records the erasure and queues its first batch (202, with its id). The eraser function
runs one batch per message: up to BATCH of the end user's items, oldest first, from their own index partition; an
erased item leaves the partition, so the next batch starts at its start again and a batch that died half-way is done
again (every step is idempotent). A queued job is canceled (its hold released) and erased; a running one is left for
a later batch, delayed, until it ends (at most the account's in-flight limit of them, fewer than a batch). The
erasure is `completed` when the partition is empty; `GET /v1/erasures/{id}` says so.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from retouch.errors import ErasureNotFound
from retouch.files.uploads import upload_key
from retouch.jobs.retention import outputs_prefix
from retouch.models.common import random_id
from retouch.models.erasures import ErasureRecord, ErasureView
from retouch.models.records import FileRecord, JobRecord
from retouch.ports import EndUserItems, ErasureQueue, ErasureStore, FileRepository, JobRepository, ObjectStore

if TYPE_CHECKING:
    from retouch.billing.charges import JobBilling

logger = Logger(child=True)

BATCH = 250  # items per message: well within the eraser's timeout at a few S3 calls each
PARALLEL = 8  # items examined (and finished) at once within a batch
DELETE_CHUNK = 1000  # keys per S3 DeleteObjects, its most
WAIT_FOR_RUNNING_SECONDS = 30  # the delay of the next batch when only running jobs are left
RECORD_DAYS = 30


@dataclass(frozen=True)
class ErasureStart:
    """What the API needs to start one."""

    erasures: ErasureStore
    queue: ErasureQueue


@dataclass(frozen=True)
class ErasureDeps:
    """What the eraser function needs to run one."""

    erasures: ErasureStore
    queue: ErasureQueue
    items: EndUserItems
    jobs: JobRepository
    files: FileRepository
    store: ObjectStore
    billing: JobBilling


def erasure_view(record: ErasureRecord) -> ErasureView:
    return ErasureView(id=record.erasure_id, user=record.end_user, status=record.status,
                       created_at=record.created_at, completed_at=record.completed_at,
                       jobs_erased=record.jobs_erased, files_erased=record.files_erased,
                       objects_deleted=record.objects_deleted, jobs_waiting=record.jobs_waiting)


def start_erasure(deps: ErasureStart, account_id: str, end_user: str, now: int) -> ErasureView:
    record = ErasureRecord(erasure_id=random_id("erase_"), account_id=account_id, end_user=end_user, created_at=now,
                           expires_at=now + RECORD_DAYS * 86400)
    deps.erasures.create(record)
    deps.queue.send(record.erasure_id)  # a failure is a 5xx with the record left running: the client asks again
    logger.info("erasure started", extra={"erasure_id": record.erasure_id, "account_id": account_id})
    return erasure_view(record)


def erasure_status(deps: ErasureStart, account_id: str, erasure_id: str) -> ErasureView:
    record = deps.erasures.get(erasure_id) if erasure_id.startswith("erase_") else None
    if record is None or record.account_id != account_id:
        raise ErasureNotFound(f"No erasure found with id '{erasure_id}'.", param="erasure_id")
    return erasure_view(record)


@dataclass(frozen=True)
class _Found:
    """What one item of a batch comes to: the objects to delete, and how to finish it once they are gone."""

    keys: list[str]
    job_id: str | None = None  # an ended job: tombstoned after its objects are gone
    file_id: str | None = None  # a file: its record deleted after its object
    waiting: bool = False  # a job still running: erased by a later batch


def _examine(item: JobRecord | FileRecord, deps: ErasureDeps, now: int) -> _Found:
    if isinstance(item, FileRecord):
        # A ready file's key is its immutable copy; the upload its presigned POST wrote is still there too.
        return _Found(keys=sorted({item.key, upload_key(item.account_id, item.file_id)}), file_id=item.file_id)
    job = item
    if job.status == "queued" and job.hold_pending is None:
        deps.billing.cancel(job, now=now)  # False if a worker claimed it meanwhile: it is read again below
        job = deps.jobs.get(job.job_id) or job
    if not job.is_terminal:
        return _Found(keys=[], waiting=True)
    # Inputs are exactly those the job records (the API stores them before writing it); outputs by their prefix, so
    # what a worker stored and never recorded (an upstream's staged inputs, a lost claim's images) goes too.
    inputs = [stored.key for stored in (*job.inputs, *([job.mask] if job.mask else []))
              if stored.key and stored.key.startswith("inputs/")]
    return _Found(keys=inputs + deps.store.keys_under(outputs_prefix(job.job_id)), job_id=job.job_id)


def _finish(found: _Found, deps: ErasureDeps, now: int) -> bool:
    if found.file_id is not None:
        deps.files.delete(found.file_id)
        return True
    return found.job_id is not None and deps.items.erase_job(found.job_id, now)


def run_erasure_batch(erasure_id: str, deps: ErasureDeps, now: int) -> None:
    """One batch of the erasure (objects first, then the records, so a batch that dies is simply done again), then
    the next batch queued, or the erasure completed."""
    record = deps.erasures.get(erasure_id)
    if record is None or record.status == "completed":
        return
    items = deps.items.first(record.account_id, record.end_user, BATCH)
    with ThreadPoolExecutor(PARALLEL, thread_name_prefix="erase") as pool:
        # Any failure is raised: the message comes back and the batch runs again.
        found = list(pool.map(lambda item: _examine(item, deps, now), items))
        keys = [key for each in found for key in each.keys]
        for start in range(0, len(keys), DELETE_CHUNK):
            deps.store.delete(keys[start:start + DELETE_CHUNK])
        finished = list(pool.map(lambda each: _finish(each, deps, now), found))
    jobs = sum(1 for each, done in zip(found, finished, strict=True) if done and each.job_id is not None)
    files = sum(1 for each in found if each.file_id is not None)
    waiting = sum(1 for each in found if each.waiting)
    more = len(items) == BATCH and waiting < len(items)
    done = not more and waiting == 0
    deps.erasures.record_batch(erasure_id, jobs=jobs, files=files, objects=len(keys), waiting=waiting,
                               completed_at=now if done else None)
    logger.info("erasure batch", extra={"erasure_id": erasure_id, "jobs": jobs, "files": files, "waiting": waiting,
                                        "done": done})
    if more:
        deps.queue.send(erasure_id)
    elif not done:
        deps.queue.send(erasure_id, WAIT_FOR_RUNNING_SECONDS)
