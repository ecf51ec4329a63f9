"""The collaborators of the status function's routes (GET /v1/jobs…, /v1/account, /v1/usage…; the sync function
serves the job routes too), built once per process from StatusSettings."""

from __future__ import annotations

from functools import cache

from retouch.config import status_settings
from retouch.data.jobs import JobRepository
from retouch.data.ledger import LedgerRepository
from retouch.data.objects import ObjectStore
from retouch.data.usage import AccountJobs


@cache
def jobs() -> JobRepository:
    return JobRepository(status_settings().table_name)


@cache
def store() -> ObjectStore:
    return ObjectStore(status_settings().bucket_name)


@cache
def account_jobs() -> AccountJobs:
    return AccountJobs(status_settings().table_name)


@cache
def ledger_reader() -> LedgerRepository:
    """The account and its ledger entries, read (the status function never moves a balance)."""
    return LedgerRepository(status_settings().table_name)
