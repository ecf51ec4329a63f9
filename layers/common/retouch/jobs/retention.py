"""Deleting an ended job at its owner's request (privacy: an app deleting a user's photo): its inputs and outputs
go now, not at the bucket's lifecycle expiry; the job item stays as a billing record that no read shows.

Objects first, then the job: if the function dies between the two, the job is still there and a repeated DELETE
finishes it. The objects are found by the job's own prefixes (inputs/{account}/{job}/, outputs/{job}/), so outputs a
worker stored and never recorded go too.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools import Logger

from retouch.errors import JobNotDeletable
from retouch.jobs.view import find_job
from retouch.ports import JobRepository, ObjectStore

logger = Logger(child=True)


@dataclass(frozen=True)
class RetentionDeps:
    jobs: JobRepository
    store: ObjectStore


def outputs_prefix(job_id: str) -> str:
    """Where workers store the job's outputs."""
    return f"outputs/{job_id}/"


def job_prefixes(account_id: str, job_id: str) -> tuple[str, str]:
    """Where the job's own objects live: the inputs the API stored, the outputs workers stored (and the copies of
    inputs they staged for upstreams, under `upstream_inputs_prefix`)."""
    return f"inputs/{account_id}/{job_id}/", outputs_prefix(job_id)


def upstream_inputs_prefix(job_id: str) -> str:
    """Where a worker stores copies of the job's inputs for an upstream to fetch by URL (a converted mask, an image
    fetched from a URL): inside the job's outputs prefix, which the worker may write and which job deletion, the
    sweeper and the bucket's outputs expiry all cover."""
    return f"{outputs_prefix(job_id)}upstream-inputs/"


def delete_job(account_id: str, job_id: str, deps: RetentionDeps, now: int) -> None:
    """404 for a job the caller cannot see (or deleted already); 409 while it has not ended."""
    job = find_job(deps.jobs, account_id, job_id)
    if not job.is_terminal:
        # Only a queued job that has made nothing can be canceled (jobs/cancel.py); a running one can only end.
        cancelable = job.status == "queued" and job.produced is None
        way = "cancel it or wait for it to end" if cancelable else "wait for it to end (it can no longer be canceled)"
        raise JobNotDeletable(f"Job '{job_id}' is {job.status}; {way}, then delete it.", param="job_id")
    removed = sum(deps.store.delete_prefix(prefix) for prefix in job_prefixes(account_id, job_id))
    # False only if a concurrent DELETE got there first: deleted either way.
    tombstoned = deps.jobs.tombstone(job_id, now=now)
    logger.info("job deleted", extra={"job_id": job_id, "objects": removed, "tombstoned": tombstoned})


def partials_prefix(job_id: str) -> str:
    """Where a worker stores the partial images an upstream streamed (jobs/partial_frames.py): inside the outputs
    prefix, so deletion and expiry cover them, and kept by a re-claim (the job's event log names them)."""
    return f"{outputs_prefix(job_id)}partials/"
