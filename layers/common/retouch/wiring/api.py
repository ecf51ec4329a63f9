"""The api function's collaborators, built from its ApiSettings: what each of its route groups is handed
(web/functions.py lists them). The image and catalog routes' builders serve the sync function too (wiring/sync.py)."""

from __future__ import annotations

from retouch.billing.charges import JobBilling
from retouch.billing.prices import price_table
from retouch.config import ApiSettings
from retouch.data.account_state import AccountStateRepository
from retouch.data.accounts import AccountRepository
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
from retouch.web.routes.catalog import CatalogRoutes
from retouch.web.routes.files import FileRoutes
from retouch.web.routes.images import ImageRoutes
from retouch.web.routes.job_actions import JobActionRoutes
from retouch.web.routes.quotes import QuoteRoutes
from retouch.web.routes.webhooks import WebhookRoutes
from retouch.webhooks.events import RedeliveryBudget
from retouch.wiring.shared import announcer, job_billing, webhook_subscriber


def build_api(settings: ApiSettings) -> list[object]:
    """One object per route group of the api function; one job repository, ledger and price table shared by all."""
    jobs = JobRepository(settings.table_name)
    store = ObjectStore(settings.bucket_name)
    queue = JobQueue(settings.jobs_queue_url)
    keys = IdempotencyRepository(settings.table_name)
    billing = job_billing(settings.table_name, jobs, settings.price_markup_percent)
    accounts = AccountRepository(settings.table_name)
    return [
        image_routes(settings, jobs, store, queue, keys, billing),
        FileRoutes(files=file_deps(settings, store), rate_counter=AccountStateRepository(settings.table_name),
                   max_body_bytes=settings.max_body_bytes),
        JobActionRoutes(
            cancel=CancelDeps(jobs=jobs, queue=queue, billing=billing, keys=keys,
                              announce=announcer(settings.table_name, settings.webhooks_queue_url)),
            retention=RetentionDeps(jobs=jobs, store=store),
            url_expiry_seconds=settings.url_expiry_seconds, accounts=accounts),
        catalog_routes(settings),
        WebhookRoutes(jobs=jobs, queue=WebhookQueue(settings.webhooks_queue_url), accounts=accounts,
                      redeliveries=RedeliveryBudget(jobs, settings.webhook_redeliveries_per_hour)),
        QuoteRoutes(prices=billing.prices, files=FileRepository(settings.table_name),
                    max_body_bytes=settings.max_body_bytes),
    ]


def image_routes(settings: ApiSettings, jobs: JobRepository, store: ObjectStore, queue: JobQueue,
                 keys: IdempotencyRepository, billing: JobBilling) -> ImageRoutes:
    submit = SubmitDeps(jobs=jobs, store=store, queue=queue, files=FileRepository(settings.table_name),
                        webhook_for=webhook_subscriber(settings), billing=billing,
                        upstream_support=UpstreamSupport(load_routing(settings.routing_document)), keys=keys)
    # Counts the requests that create something (jobs, uploads) against the account's per-minute limit.
    return ImageRoutes(submit=submit, rate_counter=AccountStateRepository(settings.table_name), settings=settings)


def catalog_routes(settings: ApiSettings) -> CatalogRoutes:
    return CatalogRoutes(prices=price_table(settings.price_markup_percent))


def file_deps(settings: ApiSettings, store: ObjectStore) -> FileDeps:
    return FileDeps(files=FileRepository(settings.table_name), store=store,
                    expiry_seconds=settings.file_expiry_hours * 3600,
                    upload_url_seconds=settings.upload_url_expiry_seconds)
