"""The worker function's collaborators, built from its settings."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from retouch.catalog import MODELS
from retouch.config import WorkerSettings
from retouch.data.account_slots import AccountSlotRepository
from retouch.data.breakers import BreakerRepository
from retouch.data.job_partials import JobPartialsRepository
from retouch.data.jobs import JobRepository
from retouch.data.objects import ObjectStore
from retouch.data.queue import JobQueue
from retouch.data.recharge import RechargeRepository
from retouch.data.recharge_queue import RechargeQueue
from retouch.errors import JobFailure
from retouch.jobs.fetch_share import FetchShare
from retouch.jobs.process import WorkerDeps
from retouch.jobs.upstream_calls import RoutingDeps
from retouch.outbound_http.url_safety import parse_allowlist
from retouch.payments.auto_recharge import BalanceWatch
from retouch.routing.breaker import CircuitBreaker
from retouch.routing.document import load_routing
from retouch.wiring.alerts import account_alerts
from retouch.wiring.shared import announcer, job_billing
from retouch.wiring.upstreams import upstreams_by_model


def _fetch(url: str, seconds_left: float, *, allowlist: frozenset[str], max_bytes: int) -> bytes:
    from retouch.outbound_http.url_fetch import UrlFetchError, fetch_url

    if seconds_left <= 0:
        raise JobFailure("image_url_timeout", "image URL did not answer in time")
    try:
        return fetch_url(url, allowlist=allowlist, max_bytes=max_bytes, timeout_seconds=seconds_left).data
    except UrlFetchError as exc:
        raise JobFailure(exc.code, exc.message) from exc


def build_worker(settings: WorkerSettings) -> tuple[WorkerDeps, JobQueue]:
    max_bytes = max(spec.limits.max_image_bytes for spec in MODELS.values())
    jobs = JobRepository(settings.table_name)
    store = ObjectStore(settings.bucket_name)
    queue = JobQueue(settings.jobs_queue_url)
    routing = load_routing(settings.routing_document)
    deps = WorkerDeps(
        jobs=jobs,
        store=store,
        routing=RoutingDeps(
            record_attempts=lambda job_id, token, attempts: jobs.record_attempts(job_id, token=token,
                                                                                  attempts=attempts),
            breaker=CircuitBreaker(BreakerRepository(settings.table_name), routing.breaker,
                                   overrides=routing.breaker_overrides(),
                                   call_timeout_seconds=settings.provider_timeout_seconds),
            upstreams=upstreams_by_model(routing, settings, store),
            max_poll_delay_seconds=settings.max_poll_delay_seconds,
            callback_base_url=settings.callback_base_url,
            call_timeout_seconds=settings.provider_timeout_seconds,
        ),
        schedule_poll=queue.send_poll,
        fetch_url=partial(_fetch, allowlist=parse_allowlist(settings.url_allowlist), max_bytes=max_bytes),
        url_fetch_seconds=settings.url_fetch_timeout_seconds,
        max_attempts=settings.max_attempts,
        retry_base_seconds=settings.retry_base_seconds,
        lease_seconds=settings.lease_seconds,
        announce=announcer(settings.table_name, settings.webhooks_queue_url),
        billing=replace(job_billing(settings.table_name, jobs, settings.price_markup_percent),
                        watch=_balance_watch(settings)),
        fetch_share=FetchShare(
            slots=AccountSlotRepository(settings.table_name, kind="URL_FETCH",
                                        count=settings.url_fetch_jobs_per_account),
            queue=queue,
            fetch_seconds=settings.url_fetch_timeout_seconds),
        partials=JobPartialsRepository(settings.table_name),
    )
    return deps, queue


def _balance_watch(settings: WorkerSettings) -> BalanceWatch:
    """What a charged settlement tells about the balance it left: auto-recharge and the balance alert (payments/)."""
    alerts = account_alerts(settings.table_name, settings.webhooks_queue_url, settings.alert_sender_email)
    return BalanceWatch(store=RechargeRepository(settings.table_name),
                        queue=RechargeQueue(settings.recharge_queue_url), alerts=alerts)
