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
from retouch.jobs.retention import job_prefixes
from retouch.models.common import random_id
from retouch.models.erasures import ErasureRecord, ErasureView
from retouch.models.records import FileRecord, JobRecord
from retouch.ports import EndUserItems, ErasureQueue, ErasureStore, FileRepository, JobRepository, ObjectStore

if TYPE_CHECKING:
    from retouch.billing.charges import JobBilling

logger = Logger(child=True)

BATCH = 250  # items per message: well within the eraser's timeout at a few S3 calls each
PARALLEL = 8  # items erased at once within a batch
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
class _Counts:
    jobs: int = 0
    files: int = 0
    objects: int = 0
    waiting: int = 0

    def __add__(self, other: _Counts) -> _Counts:
        return _Counts(self.jobs + other.jobs, self.files + other.files, self.objects + other.objects,
                       self.waiting + other.waiting)


def _erase_file(file: FileRecord, deps: ErasureDeps) -> _Counts:
    deps.store.delete([file.key])
    deps.files.delete(file.file_id)
    return _Counts(files=1, objects=1)


def _erase_job(job: JobRecord, deps: ErasureDeps, now: int) -> _Counts:
    if job.status == "queued" and job.hold_pending is None:
        deps.billing.cancel(job, now=now)  # False if a worker claimed it meanwhile: it is read again below
        job = deps.jobs.get(job.job_id) or job
    if not job.is_terminal:
        return _Counts(waiting=1)
    objects = sum(deps.store.delete_prefix(prefix) for prefix in job_prefixes(job.account_id, job.job_id))
    return _Counts(jobs=1 if deps.items.erase_job(job.job_id, now) else 0, objects=objects)


def run_erasure_batch(erasure_id: str, deps: ErasureDeps, now: int) -> None:
    """One batch of the erasure, then the next batch queued (or the erasure completed)."""
    record = deps.erasures.get(erasure_id)
    if record is None or record.status == "completed":
        return
    items = deps.items.first(record.account_id, record.end_user, BATCH)

    def erase(item: JobRecord | FileRecord) -> _Counts:
        return _erase_file(item, deps) if isinstance(item, FileRecord) else _erase_job(item, deps, now)

    with ThreadPoolExecutor(PARALLEL, thread_name_prefix="erase") as pool:
        # Raises the first failure: the message comes back and the batch runs again.
        counts = sum(pool.map(erase, items), _Counts())
    more = len(items) == BATCH and counts.waiting < len(items)
    done = not more and counts.waiting == 0
    deps.erasures.record_batch(erasure_id, jobs=counts.jobs, files=counts.files, objects=counts.objects,
                               waiting=counts.waiting, completed_at=now if done else None)
    logger.info("erasure batch", extra={"erasure_id": erasure_id, "jobs": counts.jobs, "files": counts.files,
                                        "waiting": counts.waiting, "done": done})
    if more:
        deps.queue.send(erasure_id)
    elif not done:
        deps.queue.send(erasure_id, WAIT_FOR_RUNNING_SECONDS)
