"""The sweeper: finds jobs that nothing will move on (no worker holds them, no message will deliver them) and
queues them again, or ends them `failed` with their hold released once they are too old to be worth running (and
deletes the outputs their workers, who lost the claim, had stored).

How a job gets stranded: a submit that wrote the job but could not send its message; a worker that died after its
message was deleted or dead-lettered; a dead-lettered copy that met a live worker, which then died. Each unfinished
job carries `watch_at` (created or retry time while queued, the lease while running); one past it by the grace is
stranded. A balance move left half-way by a writer that died (a job still `hold_pending`, or ended with
`release_pending`) keeps its job on the index too, and is finished here (billing/charges.py). Safe beside workers
and another sweeper: every action is a conditional write, and an extra message for a job is harmless (its claim
is conditional).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from aws_lambda_powertools import Logger

from retouch.billing.charges import JobBilling
from retouch.jobs.late_holds import watch_for_late_hold
from retouch.jobs.retention import outputs_prefix
from retouch.models.records import JobError
from retouch.observability.metrics import job_failed
from retouch.ports import JobQueue, JobRepository, ObjectStore, SweepCandidate

logger = Logger(child=True)

STRANDED = JobError(code="job_stalled", message="The job could not be run in time; it was not charged.")


@dataclass(frozen=True)
class SweepPolicy:
    # How long past its `watch_at` a job may sit before it counts as stranded (longer than a queue backlog is
    # expected to last, and than the lease margin).
    stall_grace_seconds: int = 300
    # A stranded job created this long ago is ended instead of queued again.
    give_up_seconds: int = 7200
    page_size: int = 100
    max_pages: int = 20


@dataclass(frozen=True)
class SweeperDeps:
    jobs: JobRepository
    queue: JobQueue
    billing: JobBilling
    announce: Callable[..., None]
    store: ObjectStore  # outputs of the jobs it ends
    policy: SweepPolicy = field(default_factory=SweepPolicy)


@dataclass
class SweepReport:
    requeued: list[str] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)
    settled: list[str] = field(default_factory=list)  # ended jobs whose release was finished
    discarded: list[str] = field(default_factory=list)  # submits that died before their hold: deleted
    skipped: int = 0  # changed by someone else between the read and the write
    errors: int = 0  # failed this run (logged); the next run tries them again

    def as_dict(self) -> dict[str, int]:
        return {"requeued": len(self.requeued), "ended": len(self.ended), "settled": len(self.settled),
                "discarded": len(self.discarded), "skipped": self.skipped, "errors": self.errors}


def _end(candidate: SweepCandidate, deps: SweeperDeps, now: int, report: SweepReport) -> None:
    if not deps.billing.release_unfinished(candidate.job_id, error=STRANDED, now=now):
        report.skipped += 1
        return
    report.ended.append(candidate.job_id)
    job_failed(STRANDED.code)
    _delete_outputs(candidate.job_id, deps)
    try:
        deps.announce(candidate.job_id)
    except Exception:
        logger.exception("job.failed not queued; a worker will announce it", extra={"job_id": candidate.job_id})
        deps.queue.send(candidate.job_id)


def _delete_outputs(job_id: str, deps: SweeperDeps) -> None:
    """A job ended `failed` shows no outputs, so whatever its workers stored (a checkpoint the end dropped, images a
    killed worker never recorded) is deleted now rather than at the bucket's lifecycle expiry."""
    try:
        deps.store.delete_prefix(outputs_prefix(job_id))
    except Exception:
        logger.exception("outputs of an ended job not deleted", extra={"job_id": job_id})


def _requeue(candidate: SweepCandidate, deps: SweeperDeps, now: int, report: SweepReport) -> None:
    # Watched from now first: queued again at most once per grace, however often the sweeper runs.
    if not deps.jobs.rewatch(candidate.job_id, seen_watch_at=candidate.watch_at, watch_at=now):
        report.skipped += 1
        return
    deps.queue.send(candidate.job_id)
    report.requeued.append(candidate.job_id)


def _finish_move(candidate: SweepCandidate, deps: SweeperDeps, now: int, report: SweepReport) -> bool:
    """Finish a balance move its writer left half-way; True when the candidate needs nothing else this run."""
    job = deps.jobs.get(candidate.job_id)
    if job is None:
        report.skipped += 1
        return True
    if job.release_pending is not None:
        deps.billing.complete_release(job)
        report.settled.append(job.job_id)
        if job.status == "failed":  # as `_end` does: an ended job shows no outputs (harmless when done already)
            _delete_outputs(job.job_id, deps)
        deps.announce(job.job_id)  # its event may be lost with its writer (announcing again is harmless)
        return True
    if job.hold_pending is not None:
        if deps.billing.complete_hold(job):
            _requeue(candidate, deps, now, report)  # held after all: it runs (queued once per grace)
        else:
            report.discarded.append(job.job_id)
            watch_for_late_hold(deps.queue, job)  # its submitter's hold request may still land
        return True
    return False


def sweep(deps: SweeperDeps, now: int) -> SweepReport:
    policy = deps.policy
    report = SweepReport()
    cursor = None
    for _ in range(policy.max_pages):
        due, cursor = deps.jobs.due_for_sweep(before=now - policy.stall_grace_seconds, limit=policy.page_size,
                                              cursor=cursor)
        for candidate in due:
            act = _end if candidate.created_at <= now - policy.give_up_seconds else _requeue
            try:
                if not _finish_move(candidate, deps, now, report):
                    act(candidate, deps, now, report)
            except Exception:
                report.errors += 1
                logger.exception("stranded job not handled; the next run tries again",
                                 extra={"job_id": candidate.job_id})
        if cursor is None:
            break
    if report.requeued or report.ended or report.settled or report.discarded or report.errors:
        logger.warning("stranded jobs swept", extra={**report.as_dict(), "requeued_ids": report.requeued[:20],
                                                     "ended_ids": report.ended[:20]})
    return report
