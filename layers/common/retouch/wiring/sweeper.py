"""The sweeper function's collaborators, built from its settings."""

from __future__ import annotations

from retouch.config import SweeperSettings
from retouch.data.jobs import JobRepository
from retouch.data.objects import ObjectStore
from retouch.data.queue import JobQueue
from retouch.jobs.sweep import SweeperDeps, SweepPolicy
from retouch.wiring.shared import announcer, job_billing


def build_sweeper(settings: SweeperSettings) -> SweeperDeps:
    jobs = JobRepository(settings.table_name)
    return SweeperDeps(
        jobs=jobs,
        queue=JobQueue(settings.jobs_queue_url),
        billing=job_billing(settings.table_name, jobs, settings.price_markup_percent),
        announce=announcer(settings.table_name, settings.webhooks_queue_url),
        store=ObjectStore(settings.bucket_name),
        policy=SweepPolicy(stall_grace_seconds=settings.sweep_stall_grace_seconds,
                           give_up_seconds=settings.sweep_give_up_seconds),
    )
