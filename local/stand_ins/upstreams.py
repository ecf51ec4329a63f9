"""The upstream stand-ins the local stack runs, one per provider, and what an adapter needs to reach each.

Shared with the worker's routing (coordination point, keep it small):

    upstream_urls: dict[str, str]   upstream name -> base URL of its stand-in; what to put where the real
                                    provider's base URL goes (see `adapter_urls`)
    local.stack.STAND_IN_PROVIDER_KEY   the one key the stack's stand-ins accept (another key gets their 401);
                                        the stack's provider secrets hold it
    local.stack.UPSTREAM_URLS_PARAMETER the template parameter LoopbackStack fills with `UpstreamStandIns.to_json()`
                                        (upstream kind -> what a routing entry's `base_url` would say, see
                                        `routing_base_url`), when the template declares it; the worker uses it
                                        for routing entries that name no `base_url`

All stand-ins run as threads of the stack's process, each on a free loopback port.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from local.stand_ins.aiml import AimlFake
from local.stand_ins.azure_openai import DEFAULT_DEPLOYMENT, AzureOpenAIFake
from local.stand_ins.fal import FalFake
from local.stand_ins.modelslab import SUBMIT_PATH, ModelsLabFake
from local.stand_ins.oxen import OxenFake
from local.stand_ins.runflow import RunflowFake
from local.stand_ins.stand_in import StandIn

AZURE_DEPLOYMENT = DEFAULT_DEPLOYMENT

STAND_INS: dict[str, type[StandIn]] = {
    "azure_openai": AzureOpenAIFake,
    "aiml": AimlFake,
    "modelslab": ModelsLabFake,
    "oxen": OxenFake,
    "runflow": RunflowFake,
    "fal": FalFake,
}
ASYNC_UPSTREAMS = frozenset({"modelslab", "oxen", "fal"})


def routing_base_url(name: str, base_url: str) -> str:
    """What a routing entry's `base_url` says for upstream `name`'s stand-in at `base_url` (ModelsLab's names its
    endpoint, the others their API's root)."""
    return f"{base_url}{SUBMIT_PATH}" if name == "modelslab" else base_url


def adapter_urls(name: str, base_url: str) -> dict[str, str]:
    """The URL keyword arguments of upstream `name`'s adapter factory for a stand-in at `base_url`."""
    url = routing_base_url(name, base_url)
    if name == "azure_openai":
        return {"endpoint": url, "deployment": AZURE_DEPLOYMENT}
    if name == "modelslab":
        return {"url": url}
    if name == "fal":
        return {"queue_url": url}
    return {"base_url": url}  # aiml, oxen, runflow


class UpstreamStandIns:
    """Every upstream's stand-in, started and stopped together.

    pending_polls: how many status polls an async job answers "still running" before it finishes (0 locally: the
    first poll finishes it, so an async edit costs one poll interval)."""

    def __init__(self, *, delay: float, hang_seconds: float, api_key: str, pending_polls: int = 0) -> None:
        self.by_name: dict[str, StandIn] = {}
        for name, stand_in_class in STAND_INS.items():
            extra: dict[str, Any] = {"pending_polls": pending_polls} if name in ASYNC_UPSTREAMS else {}
            self.by_name[name] = stand_in_class(host="127.0.0.1", port=0, delay=delay, hang_seconds=hang_seconds,
                                                api_key=api_key, **extra)
        self.api_key = api_key

    @property
    def urls(self) -> dict[str, str]:
        return {name: stand_in.base_url for name, stand_in in self.by_name.items()}

    def to_json(self) -> str:
        """The UpstreamBaseUrls parameter: upstream kind -> the URL a routing entry without `base_url` calls."""
        return json.dumps({name: routing_base_url(name, url) for name, url in self.urls.items()}, sort_keys=True)

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
