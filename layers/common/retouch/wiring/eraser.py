"""The eraser function's collaborators, built from its EraserSettings."""

from __future__ import annotations

from collections.abc import Callable

from retouch.config import EraserSettings
from retouch.data.erasures import EndUserItems, ErasureQueue, ErasureRepository
from retouch.data.files import FileRepository
from retouch.data.jobs import JobRepository
from retouch.data.objects import ObjectStore
from retouch.end_users.erasure import ErasureDeps, run_erasure_batch
from retouch.models.common import now_epoch
from retouch.wiring.shared import job_billing


def build_eraser(settings: EraserSettings) -> Callable[[str], None]:
    """`run(erasure_id)`: one batch of that erasure."""
    jobs = JobRepository(settings.table_name)
    deps = ErasureDeps(erasures=ErasureRepository(settings.table_name),
                       queue=ErasureQueue(settings.erasure_queue_url), items=EndUserItems(settings.table_name),
                       jobs=jobs, files=FileRepository(settings.table_name), store=ObjectStore(settings.bucket_name),
                       billing=job_billing(settings.table_name, jobs, settings.price_markup_percent))

    def run(erasure_id: str) -> None:
        run_erasure_batch(erasure_id, deps, now_epoch())

    return run
