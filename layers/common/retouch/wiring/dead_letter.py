"""The dead-letter function's collaborators, built from its settings."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from retouch.config import DeadLetterSettings
from retouch.data.jobs import JobRepository
from retouch.jobs.abandoned import end_abandoned_message
from retouch.wiring.shared import announcer, job_billing


def build_dead_letter(settings: DeadLetterSettings) -> Callable[[str], bool]:
    """`end(body)`: ends the job of one dead-lettered message."""
    jobs = JobRepository(settings.table_name)
    return partial(end_abandoned_message,
                   billing=job_billing(settings.table_name, jobs, settings.price_markup_percent),
                   announce=announcer(settings.table_name, settings.webhooks_queue_url))
