"""The upstream stand-ins the local stack runs, one per upstream kind of the registry
(retouch.upstream_registry, which names each kind's stand-in class), and what an adapter needs to reach each.

Shared with the worker's routing (coordination point, keep it small):

    UpstreamStandIns.urls           upstream kind -> base URL of its stand-in
    adapter_config(stand_in, ...)   what the worker's wiring would hand the kind's adapter factory for a routing
                                    entry calling that stand-in
    local.stack.STAND_IN_PROVIDER_KEY   the one key the stack's stand-ins accept (another key gets their 401);
                                        the stack's provider secrets hold it
    local.stack.UPSTREAM_URLS_PARAMETER the template parameter LoopbackStack fills with `UpstreamStandIns.to_json()`
                                        (upstream kind -> what a routing entry's `base_url` would say, see
                                        `StandIn.routing_base_url`), when the template declares it; the worker uses
                                        it for routing entries that name no `base_url`

The `openai` kind's stand-in is the stack's own provider (`LoopbackStack.provider`, behind ProviderBaseUrl, whose
calls and faults most tests read); every other kind's runs here. All run as threads of the stack's process, each on
a free loopback port.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any
from urllib.parse import urlsplit

import httpx

from local.stand_ins.stand_in import StandIn
from retouch.catalog import DEFAULT_MODEL
from retouch.providers.upstream import AdapterConfig, OutputUrls, Presign
from retouch.upstream_registry import UPSTREAMS, load

STACK_PROVIDER_KIND = "openai"


def stand_in_class(kind: str) -> type[StandIn]:
    """The stand-in the registry names for upstream `kind`."""
    found = load(UPSTREAMS[kind].stand_in)
    if not (isinstance(found, type) and issubclass(found, StandIn) and found.upstream == kind):
        raise TypeError(f"the registry's stand-in for {kind} is not a StandIn for {kind}: {found!r}")
    return found


STAND_INS: dict[str, type[StandIn]] = {kind: stand_in_class(kind) for kind in UPSTREAMS
                                       if kind != STACK_PROVIDER_KIND}
ASYNC_UPSTREAMS = frozenset(kind for kind, entry in UPSTREAMS.items() if entry.mode == "async")


def adapter_config(stand_in: StandIn, *, api_key: str, presign: Presign, client: httpx.Client | None = None,
                   timeout_seconds: float = 10) -> AdapterConfig:
    """What the worker would give the adapter factory of `stand_in`'s kind (retouch.providers.upstream.build_adapter)
    for a routing entry calling the stand-in, for the catalog's default model (or the first model the kind serves)."""
    models = UPSTREAMS[stand_in.upstream].models
    where = urlsplit(stand_in.base_url)  # on the allowlist, as the local stack puts it (local.stack.allowlist_with)
    return AdapterConfig(api_key=api_key, timeout_seconds=timeout_seconds, presign=presign,
                         model=models.get(DEFAULT_MODEL) or next(iter(models.values())),
                         base_url=stand_in.routing_base_url, client=client, **stand_in.route_fields,
                         outputs=OutputUrls(allowlist=frozenset({f"{where.hostname}:{where.port}"})))


class UpstreamStandIns:
    """Every upstream's stand-in, started and stopped together.

    pending_polls: how many status polls an async job answers "still running" before it finishes (0 locally: the
    first poll finishes it, so an async edit costs one poll interval)."""

    def __init__(self, *, delay: float, hang_seconds: float, api_key: str, pending_polls: int = 0) -> None:
        self.by_name: dict[str, StandIn] = {}
        for name, stand_in_class_ in STAND_INS.items():
            extra: dict[str, Any] = {"pending_polls": pending_polls} if name in ASYNC_UPSTREAMS else {}
            self.by_name[name] = stand_in_class_(host="127.0.0.1", port=0, delay=delay, hang_seconds=hang_seconds,
                                                 api_key=api_key, **extra)
        self.api_key = api_key

    @property
    def urls(self) -> dict[str, str]:
        return {name: stand_in.base_url for name, stand_in in self.by_name.items()}

    def to_json(self) -> str:
        """The UpstreamBaseUrls parameter: upstream kind -> the URL a routing entry without `base_url` calls."""
        return json.dumps({name: stand_in.routing_base_url for name, stand_in in self.by_name.items()},
                          sort_keys=True)

    def start(self) -> UpstreamStandIns:
        with contextlib.ExitStack() as started:
            for stand_in in self.by_name.values():
                stand_in.start()
                started.callback(stand_in.stop)
            started.pop_all()
        return self

    def stop(self) -> None:
        for stand_in in self.by_name.values():
            stand_in.stop()
