"""The api function's collaborators, built from its ApiSettings: what each of its route groups is handed
(web/functions.py lists them). The image and catalog routes' builders serve the sync function too (wiring/sync.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from retouch.billing.charges import JobBilling
from retouch.billing.prices import price_table
from retouch.config import ApiSettings
from retouch.data.account_state import AccountStateRepository
from retouch.data.accounts import AccountRepository
from retouch.data.client_tokens import ClientTokenRepository
from retouch.data.end_users import EndUserRepository
from retouch.data.erasures import ErasureQueue, ErasureRepository
from retouch.data.files import FileRepository
from retouch.data.idempotency import IdempotencyRepository
from retouch.data.job_partials import JobPartialsRepository
from retouch.data.jobs import JobRepository
from retouch.data.objects import ObjectStore
from retouch.data.queue import JobQueue
from retouch.data.webhooks import WebhookQueue
from retouch.end_users.erasure import ErasureStart
from retouch.files.uploads import FileDeps
from retouch.jobs.cancel import CancelDeps
from retouch.jobs.quote import QuoteDeps
from retouch.jobs.retention import RetentionDeps
from retouch.jobs.submit import SubmitDeps
from retouch.jobs.upstream_callbacks import CallbackDeps
from retouch.routing.document import load_routing
from retouch.routing.support import UpstreamSupport
from retouch.web.routes.catalog import CatalogRoutes
from retouch.web.routes.client_tokens import ClientTokenRoutes
from retouch.web.routes.end_users import EndUserRoutes
from retouch.web.routes.files import FileRoutes
from retouch.web.routes.images import ImageRoutes
from retouch.web.routes.job_actions import JobActionRoutes
from retouch.web.routes.quotes import QuoteRoutes
from retouch.web.routes.upstream_callbacks import UpstreamCallbackRoutes
from retouch.web.routes.webhooks import WebhookRoutes
from retouch.webhooks.events import RedeliveryBudget
from retouch.wiring.holds import held_requests
from retouch.wiring.shared import announcer, end_user_quotas, job_billing, webhook_subscriber


def build_api(settings: ApiSettings) -> list[object]:
    """One object per route group of the api function; one job repository, ledger and price table shared by all."""
    jobs = JobRepository(settings.table_name)
    store = ObjectStore(settings.bucket_name)
    queue = JobQueue(settings.jobs_queue_url)
    keys = IdempotencyRepository(settings.table_name)
    billing = job_billing(settings.table_name, jobs, settings.price_markup_percent)
    accounts = AccountRepository(settings.table_name)
    images = image_routes(settings, jobs, store, queue, keys, billing)
    return [
        images,
        FileRoutes(files=file_deps(settings, store), rate_counter=AccountStateRepository(settings.table_name),
                   max_body_bytes=settings.max_body_bytes, end_users=end_user_quotas(settings.table_name)),
        JobActionRoutes(
            cancel=CancelDeps(jobs=jobs, queue=queue, billing=billing, keys=keys,
                              announce=announcer(settings.table_name, settings.webhooks_queue_url)),
            retention=RetentionDeps(jobs=jobs, store=store),
            url_expiry_seconds=settings.url_expiry_seconds, accounts=accounts),
        catalog_routes(settings),
        WebhookRoutes(jobs=jobs, queue=WebhookQueue(settings.webhooks_queue_url), accounts=accounts,
                      redeliveries=RedeliveryBudget(jobs, settings.webhook_redeliveries_per_hour)),
        *end_user_routes(settings, accounts),
        upstream_callback_routes(settings, jobs, queue),
        quote_routes(settings, images.submit),
    ]


def end_user_routes(settings: ApiSettings, accounts: AccountRepository) -> list[object]:
    """The end users' and device tokens' routes (issue 18)."""
    if settings.erasure_queue_url is None:
        raise ValueError("RETOUCH_ERASURE_QUEUE_URL is required by the api function")
    erasure = ErasureStart(erasures=ErasureRepository(settings.table_name),
                           queue=ErasureQueue(settings.erasure_queue_url))
    return [EndUserRoutes(end_users=EndUserRepository(settings.table_name), erasure=erasure, accounts=accounts),
            ClientTokenRoutes(tokens=ClientTokenRepository(settings.table_name), accounts=accounts)]


def upstream_callback_routes(settings: ApiSettings, jobs: JobRepository, queue: JobQueue) -> UpstreamCallbackRoutes:
    """Callbacks from the upstreams that make them (fal), each authenticated its own way; a verified one sends the
    job's poll message with no delay."""
    kinds = {route.name: route.kind for routes in load_routing(settings.routing_document).models.values()
             for route in routes}
    return UpstreamCallbackRoutes(callbacks=CallbackDeps(
        jobs=jobs, verifiers={"fal": _FalVerifierOnFirstUse(settings.fal_jwks_url)}, kind_of=kinds.get,
        wake=lambda job_id, seq: queue.send_poll(job_id, seq, 0)))


def image_routes(settings: ApiSettings, jobs: JobRepository, store: ObjectStore, queue: JobQueue,
                 keys: IdempotencyRepository, billing: JobBilling) -> ImageRoutes:
    submit = SubmitDeps(jobs=jobs, store=store, queue=queue, files=FileRepository(settings.table_name),
                        webhook_for=webhook_subscriber(settings), billing=billing,
                        upstream_support=UpstreamSupport(load_routing(settings.routing_document)), keys=keys)
    # Counts the requests that create something (jobs, uploads) against the account's per-minute limit.
    # The requests each account holds open waiting: the sync entry's (refused past the limit: its caller needs the
    # image), or the api's `Prefer: wait` and streams (answered at once past it).
    sync = settings.wait_by_default
    holds = held_requests(settings.table_name, kind="SYNC_HOLD" if sync else "WAIT_HOLD",
                          limit=settings.holds_per_account, refuses_over_limit=sync)
    return ImageRoutes(submit=submit, rate_counter=AccountStateRepository(settings.table_name), settings=settings,
                       holds=holds, partials=JobPartialsRepository(settings.table_name))


def quote_routes(settings: ApiSettings, submit: SubmitDeps) -> QuoteRoutes:
    """A quote checks its request with the submit's own collaborators (the same 400s) and prices it at its hold."""
    return QuoteRoutes(quote=QuoteDeps(prices=submit.billing.prices, files=submit.files, store=submit.store,
                                       webhook_for=submit.webhook_for, upstream_support=submit.upstream_support),
                       max_body_bytes=settings.max_body_bytes)


def catalog_routes(settings: ApiSettings) -> CatalogRoutes:
    return CatalogRoutes(prices=price_table(settings.price_markup_percent))


def file_deps(settings: ApiSettings, store: ObjectStore) -> FileDeps:
    return FileDeps(files=FileRepository(settings.table_name), store=store,
                    expiry_seconds=settings.file_expiry_hours * 3600,
                    upload_url_seconds=settings.upload_url_expiry_seconds)


class _FalVerifierOnFirstUse:
    """fal's verifier (providers/fal_webhooks.py, over httpx), built on the first callback: the api function's cold
    start imports no HTTP client (tests/unit/template/test_lean_functions.py)."""

    def __init__(self, jwks_url: str) -> None:
        self._jwks_url = jwks_url
        self._verify: Callable[[Mapping[str, str], bytes], str] | None = None

    def __call__(self, headers: Mapping[str, str], body: bytes) -> str:
        if self._verify is None:
            from retouch.providers.fal_webhooks import FalWebhookVerifier

            self._verify = FalWebhookVerifier(jwks_url=self._jwks_url).verify
        return self._verify(headers, body)
