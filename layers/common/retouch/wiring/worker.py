"""The worker function's collaborators, built from its settings."""

from __future__ import annotations

from functools import partial

from retouch.catalog import MODELS
from retouch.config import WorkerSettings
from retouch.data.jobs import JobRepository
from retouch.data.objects import ObjectStore
from retouch.data.queue import JobQueue
from retouch.data.secrets import provider_api_key
from retouch.jobs.process import WorkerDeps
from retouch.providers.base import ImageProvider
from retouch.providers.credentials import usable_key
from retouch.errors import JobFailure
from retouch.outbound_http.url_safety import parse_allowlist
from retouch.wiring.shared import announcer, job_billing


def _fetch(url: str, *, allowlist: frozenset[str], max_bytes: int, timeout: float) -> bytes:
    from retouch.outbound_http.url_fetch import UrlFetchError, fetch_url

    try:
        return fetch_url(url, allowlist=allowlist, max_bytes=max_bytes, timeout_seconds=timeout).data
    except UrlFetchError as exc:
        raise JobFailure(exc.code, exc.message) from exc


def build_worker(settings: WorkerSettings) -> tuple[WorkerDeps, JobQueue]:
    provider: ImageProvider | None = None
    provider_key: str | None = None

    def get_provider() -> ImageProvider:
        nonlocal provider, provider_key
        # Read per job (the secret is cached for 5 minutes): a rotated key is in use on warm workers within minutes.
        key = usable_key(provider_api_key(settings.provider_secret_arn), "image provider")
        if provider is None or key != provider_key:  # httpx is loaded on the first job, not at cold start
            from retouch.providers.openai_images import OpenAIImagesProvider

            provider = OpenAIImagesProvider(
                base_url=settings.provider_base_url,
                api_key=key,
                timeout_seconds=settings.provider_timeout_seconds,
            )
            provider_key = key
        return provider

    max_bytes = max(spec.limits.max_image_bytes for spec in MODELS.values())
    jobs = JobRepository(settings.table_name)
    deps = WorkerDeps(
        jobs=jobs,
        store=ObjectStore(settings.bucket_name),
        provider=get_provider,
        fetch_url=partial(_fetch, allowlist=parse_allowlist(settings.url_allowlist), max_bytes=max_bytes,
                          timeout=settings.url_fetch_timeout_seconds),
        max_attempts=settings.max_attempts,
        retry_base_seconds=settings.retry_base_seconds,
        lease_seconds=settings.lease_seconds,
        announce=announcer(settings.table_name, settings.webhooks_queue_url),
        billing=job_billing(settings.table_name, jobs, settings.price_markup_percent),
    )
    return deps, JobQueue(settings.jobs_queue_url)
