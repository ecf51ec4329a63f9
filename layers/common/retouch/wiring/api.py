"""The collaborators of the api and sync functions' routes (both read ApiSettings), built once per process."""

from __future__ import annotations

from functools import cache

from retouch.billing.charges import JobBilling
from retouch.config import api_settings
from retouch.data.account_state import AccountStateRepository
from retouch.data.files import FileRepository
from retouch.data.idempotency import IdempotencyRepository
from retouch.data.jobs import JobRepository
from retouch.data.objects import ObjectStore
from retouch.data.queue import JobQueue
from retouch.data.webhooks import WebhookQueue
from retouch.files.uploads import FileDeps
from retouch.jobs.cancel import CancelDeps
from retouch.jobs.retention import RetentionDeps
from retouch.jobs.submit import SubmitDeps
from retouch.routing.document import load_routing
from retouch.routing.support import UpstreamSupport
from retouch.wiring.shared import announcer, job_billing, webhook_subscriber


@cache
def jobs() -> JobRepository:
    return JobRepository(api_settings().table_name)


@cache
def rate_counter() -> AccountStateRepository:
    """Counts the requests that create something (jobs, uploads) against the account's per-minute limit."""
    return AccountStateRepository(api_settings().table_name)


@cache
def billing() -> JobBilling:
    """One ledger and price table per environment, shared by submits and cancels."""
    settings = api_settings()
    return job_billing(settings.table_name, jobs(), settings.price_markup_percent)


@cache
def keys() -> IdempotencyRepository:
    return IdempotencyRepository(api_settings().table_name)


@cache
def submit_deps() -> SubmitDeps:
    settings = api_settings()
    return SubmitDeps(jobs=jobs(), store=ObjectStore(settings.bucket_name),
                      queue=JobQueue(settings.jobs_queue_url), files=FileRepository(settings.table_name),
                      webhook_for=webhook_subscriber(settings),
                      billing=billing(), upstream_support=UpstreamSupport(load_routing(settings.routing_document)),
                      keys=keys())


@cache
def cancel_deps() -> CancelDeps:
    settings = api_settings()
    return CancelDeps(jobs=jobs(), queue=JobQueue(settings.jobs_queue_url), billing=billing(), keys=keys(),
                      announce=announcer(settings.table_name, settings.webhooks_queue_url))


@cache
def retention_deps() -> RetentionDeps:
    return RetentionDeps(jobs=jobs(), store=ObjectStore(api_settings().bucket_name))


@cache
def file_deps() -> FileDeps:
    settings = api_settings()
    return FileDeps(files=FileRepository(settings.table_name), store=ObjectStore(settings.bucket_name),
                    expiry_seconds=settings.file_expiry_hours * 3600,
                    upload_url_seconds=settings.upload_url_expiry_seconds)


@cache
def webhook_queue() -> WebhookQueue:
    return WebhookQueue(api_settings().webhooks_queue_url)
