"""The sync function's collaborators, built from its ApiSettings (its own values: a longer wait, waiting by default):
its route groups' (the image and catalog routes built as the api function builds them, the job reads), and the
accounts and API-key hashes it resolves keys against itself, since no authorizer stands in front of its Function
URL."""

from __future__ import annotations

from dataclasses import dataclass

from retouch.config import ApiSettings
from retouch.data.accounts import AccountRepository
from retouch.data.client_tokens import ClientTokenRepository
from retouch.data.idempotency import IdempotencyRepository
from retouch.data.job_partials import JobPartialsRepository
from retouch.data.jobs import JobRepository
from retouch.data.objects import ObjectStore
from retouch.data.queue import JobQueue
from retouch.data.secrets import secret_value
from retouch.data.usage import AccountJobs
from retouch.ports import AccountRepository as Accounts
from retouch.ports import ClientTokenStore
from retouch.web.routes.job_events import JobEventRoutes
from retouch.web.routes.jobs import JobReadRoutes
from retouch.wiring.api import catalog_routes, image_routes
from retouch.wiring.shared import job_billing


@dataclass(frozen=True)
class SyncCollaborators:
    routes: list[object]  # one object per route group (web/functions.py)
    accounts: Accounts  # the key check the Function URL's requests get here
    edge_secret: str | None  # the header value the edge adds (web/edge.py); None: no edge in front
    client_tokens: ClientTokenStore  # device tokens, resolved here too


def build_sync(settings: ApiSettings) -> SyncCollaborators:
    jobs = JobRepository(settings.table_name)
    store = ObjectStore(settings.bucket_name)
    images = image_routes(settings, jobs, store, JobQueue(settings.jobs_queue_url),
                          IdempotencyRepository(settings.table_name),
                          job_billing(settings.table_name, jobs, settings.price_markup_percent))
    reads = JobReadRoutes(jobs=jobs, account_jobs=AccountJobs(settings.table_name), store=store,
                          url_expiry_seconds=settings.url_expiry_seconds)
    edge_secret = secret_value(settings.edge_secret_arn) if settings.edge_secret_arn else None
    # Its events route follows a job to its end: the longest hold of a submission (the stream's runtime bounds it).
    events = JobEventRoutes(jobs=jobs, partials=JobPartialsRepository(settings.table_name), store=store,
                            url_expiry_seconds=settings.url_expiry_seconds, hold_seconds=settings.max_wait_seconds,
                            holds=images.holds)
    return SyncCollaborators(routes=[images, reads, catalog_routes(settings), events],
                             accounts=AccountRepository(settings.table_name), edge_secret=edge_secret,
                             client_tokens=ClientTokenRepository(settings.table_name))
