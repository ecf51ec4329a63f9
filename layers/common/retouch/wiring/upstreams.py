"""The worker's upstreams, built from the routing document: one adapter per routing entry, each made on first use by
its kind's factory in the upstream registry (httpx and the entry's key from Secrets Manager are loaded then, not at
cold start)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from functools import cache, partial

from retouch.config import WorkerSettings
from retouch.data.objects import ObjectStore
from retouch.data.secrets import provider_api_key
from retouch.jobs.upstream_calls import Upstream
from retouch.outbound_http.url_safety import parse_allowlist
from retouch.ports import ObjectStore as ObjectStorePort
from retouch.providers.base import InputImage
from retouch.providers.credentials import usable_key
from retouch.providers.upstream import AdapterConfig, OutputUrls, Presign, UpstreamAdapter, build_adapter
from retouch.routing.document import RoutingDocument, UpstreamRoute

# Input URLs given to an upstream stay valid this long (its queue may start the job minutes later).
PRESIGNED_INPUT_SECONDS = 3600


def input_presigner(store: ObjectStorePort) -> Presign:
    """An input image -> a presigned GET URL of an immutable copy of the bytes the worker checked, under an opaque key
    in its job's staging prefix (jobs/retention.upstream_inputs_prefix: deleted with the job, expired with its
    outputs; the worker's role, which signs the URL, may read it). Never the input's own key: an upload can be
    changed or deleted by its client before an asynchronous upstream fetches it, and its key names the account."""

    def presign(image: InputImage) -> str:
        if image.staging_prefix is None:  # a bug: an adapter made an input without its job's prefix
            raise ValueError(f"input {image.filename} has no staging prefix")
        key = f"{image.staging_prefix}{uuid.uuid4().hex}"
        store.put(key, image.open(), image.content_type)
        return store.presign_get(key, PRESIGNED_INPUT_SECONDS)

    return presign


def adapter_for(route: UpstreamRoute, upstream_model: str, settings: WorkerSettings,
                  store: ObjectStore, key: str) -> UpstreamAdapter:
    """The adapter for one routing entry, made by its kind's registered factory (each provider module is imported
    only when its kind is routed)."""
    config = AdapterConfig(api_key=key, timeout_seconds=settings.provider_timeout_seconds,
                           presign=input_presigner(store), model=upstream_model,
                           base_url=base_url(route, settings), deployment=route.deployment,
                           api_version=route.api_version,
                           # output image URLs are vetted as input URLs are, with the same allowlist
                           outputs=OutputUrls(allowlist=parse_allowlist(settings.url_allowlist)))
    return build_adapter(route.kind, config)


def base_url(route: UpstreamRoute, settings: WorkerSettings) -> str | None:
    """The entry's own `base_url`, else UpstreamBaseUrls' for its kind, else ProviderBaseUrl for `openai` (the stack's
    first upstream setting, kept as that kind's URL); None: the adapter calls the upstream's documented URL."""
    legacy = {"openai": settings.provider_base_url}
    return settings.base_url(route.kind, route.base_url) or legacy.get(route.kind)


def _micros(usd: Decimal | None) -> int | None:
    return int(usd * 1_000_000) if usd is not None else None


def upstreams_by_model(document: RoutingDocument, settings: WorkerSettings,
                       store: ObjectStore) -> Callable[[str], list[Upstream]]:
    """model id (or alias) -> its upstreams in order; one adapter per model and entry, built on its first call."""

    def adapter(model_id: str, name: str) -> UpstreamAdapter:
        route = next(route for route in document.routes_for(model_id) if route.name == name)
        # Read per job (Secrets Manager answers are cached for minutes): a rotated key reaches warm workers without a
        # redeploy, and a placeholder key ends the job provider_auth_failed before any call.
        key = usable_key(provider_api_key(route.secret_name or settings.provider_secret_arn), route.name)
        return built(model_id, name, key)

    @cache
    def built(model_id: str, name: str, key: str) -> UpstreamAdapter:
        route = next(route for route in document.routes_for(model_id) if route.name == name)
        return adapter_for(route, document.upstream_model(model_id, route), settings, store, key)

    routes = {
        model_id: [Upstream(name=route.name, adapter=partial(adapter, model_id, route.name),
                            cost_per_image_micros=_micros(route.cost_per_image_usd)) for route in entries]
        for model_id, entries in document.models.items()
    }

    def for_model(model_id: str) -> list[Upstream]:
        from retouch.catalog import find_model

        spec = find_model(model_id)
        return routes[spec.id if spec else model_id]

    return for_model
