"""A fair share of the workers while jobs fetch their input URLs: at most `per account` of an account's jobs fetch
at once (WorkerSettings.url_fetch_jobs_per_account, below the workers' concurrency), so URLs that drip bytes and then
fail, however many jobs of them an account keeps in flight, hold only that many of the shared workers.

A job over its account's share is not run: its message is replaced by a new one delayed DEFER_SECONDS, in the
account's message group (SQS fair queues deliver the other accounts' messages first), and the delivery ends. Nothing
of the job changes (no claim, no attempt, no receive spent towards the dead-letter queue). A share is a lease
(data/account_slots.py) as long as the fetch deadline and a margin, given back as soon as the inputs are loaded, and
free by itself if the worker died.

Only jobs that will fetch URLs take a share: edits with an input or mask URL, not yet produced or waiting on an
asynchronous upstream (stored files are read from S3, which does not drip).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from retouch.models.records import JobRecord
from retouch.ports import AccountSlots, JobQueue

DEFER_SECONDS = 5
# A share outlives the fetch deadline by this much: the check of the images and the worker's own pauses.
LEASE_MARGIN_SECONDS = 10

logger = Logger(child=True)


@dataclass(frozen=True)
class FetchShare:
    slots: AccountSlots
    # Where a deferred job's new message goes (in its account's message group).
    queue: JobQueue
    fetch_seconds: float  # the whole of a job's URL fetching (WorkerSettings.url_fetch_timeout_seconds)

    def take(self, job: JobRecord, now: int) -> bool:
        """The job's share of its account's fetching workers (True also when it needs none)."""
        if not fetches_urls(job):
            return True
        until = now + math.ceil(self.fetch_seconds) + LEASE_MARGIN_SECONDS
        return self.slots.acquire(job.account_id, job.job_id, now=now, until=until)

    def give_back(self, job: JobRecord) -> None:
        """Free the job's share (nothing when it holds none); a failure only leaves it to its lease's end."""
        if not fetches_urls(job):
            return
        try:
            self.slots.release(job.account_id, job.job_id)
        except Exception:
            logger.exception("fetching share not given back; it ends with its lease", extra={"job_id": job.job_id})

    def defer(self, job: JobRecord) -> None:
        self.queue.send(job.job_id, tenant=job.account_id, delay_seconds=DEFER_SECONDS, fetches_urls=True)


def fetches_urls(job: JobRecord) -> bool:
    """Whether running the job now fetches input URLs."""
    if job.kind != "edit" or job.produced is not None or job.pending_call is not None:
        return False
    return any(source.url for source in (*job.inputs, *([job.mask] if job.mask else [])))
