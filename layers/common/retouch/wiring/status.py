"""The status function's collaborators (GET /v1/jobs…, /v1/account, /v1/usage…), built from its StatusSettings."""

from __future__ import annotations

from retouch.config import StatusSettings
from retouch.data.job_partials import JobPartialsRepository
from retouch.data.jobs import JobRepository
from retouch.data.ledger import LedgerRepository
from retouch.data.objects import ObjectStore
from retouch.data.usage import AccountJobs
from retouch.web.routes.account import AccountRoutes
from retouch.web.routes.job_events import JobEventRoutes
from retouch.web.routes.jobs import JobReadRoutes
from retouch.wiring.holds import held_requests

# API Gateway ends every integration at 30 s: an events response ends within this, then the client resumes.
EVENTS_HOLD_SECONDS = 25


def build_status(settings: StatusSettings) -> list[object]:
    """One object per route group of the status function (web/functions.py)."""
    account_jobs = AccountJobs(settings.table_name)
    jobs = JobRepository(settings.table_name)
    store = ObjectStore(settings.bucket_name)
    return [
        JobReadRoutes(jobs=jobs, account_jobs=account_jobs, store=store,
                      url_expiry_seconds=settings.url_expiry_seconds),
        # The account and its ledger entries, read (the status function never moves a balance).
        AccountRoutes(ledger=LedgerRepository(settings.table_name), account_jobs=account_jobs),
        JobEventRoutes(jobs=jobs, partials=JobPartialsRepository(settings.table_name), store=store,
                       url_expiry_seconds=settings.url_expiry_seconds, hold_seconds=EVENTS_HOLD_SECONDS,
                       holds=held_requests(settings.table_name, kind="EVENTS_HOLD",
                                           limit=settings.holds_per_account, refuses_over_limit=False)),
    ]
