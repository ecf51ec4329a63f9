"""sweeper function (on a schedule): stranded jobs are queued again, or ended with their hold released and their
outputs deleted."""

from functools import cache

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from retouch.billing.charges import JobBilling
from retouch.billing.prices import price_table
from retouch.config import SweeperSettings, sweeper_settings
from retouch.data.jobs import JobRepository
from retouch.data.ledger import LedgerRepository
from retouch.data.objects import ObjectStore
from retouch.data.queue import JobQueue
from retouch.jobs.sweep import SweeperDeps, SweepPolicy, sweep
from retouch.models.common import now_epoch
from retouch.webhooks.wiring import build_announcer

logger = Logger()
settings: SweeperSettings = sweeper_settings()  # read at cold start: a bad deploy fails here


@cache
def _deps() -> SweeperDeps:
    jobs = JobRepository(settings.table_name)
    return SweeperDeps(
        jobs=jobs,
        queue=JobQueue(settings.jobs_queue_url),
        # Releases only return what each job holds; prices are not consulted.
        billing=JobBilling(ledger=LedgerRepository(settings.table_name), jobs=jobs, prices=price_table()),
        announce=build_announcer(settings.table_name, settings.webhooks_queue_url),
        store=ObjectStore(settings.bucket_name),
        policy=SweepPolicy(stall_grace_seconds=settings.sweep_stall_grace_seconds,
                           give_up_seconds=settings.sweep_give_up_seconds),
    )


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return sweep(_deps(), now_epoch()).as_dict()
