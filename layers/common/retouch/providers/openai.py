"""OpenAI's images API itself (or any server speaking it whole, like the local stand-in): `POST {base_url}/images/edits`
and `/images/generations`, Bearer key. Every field of the request is sent as the client sent it, its `model` too (a
dated snapshot name reaches OpenAI as asked); answers `data[].b64_json` with `usage` tokens, not money."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from retouch.providers.openai_images import Dialect, OpenAIImagesUpstream
from retouch.providers.upstream import AdapterConfig, OutputUrls
from retouch.providers.upstream_http import UpstreamHttp
from retouch.upstream_registry import UPSTREAMS

BASE_URL = "https://api.openai.com/v1"
UPSTREAM = "openai"

CAPABILITIES = UPSTREAMS[UPSTREAM].capabilities


def openai_upstream(*, api_key: str, timeout_seconds: float, base_url: str = BASE_URL,
                    client: httpx.Client | None = None, outputs: OutputUrls | None = None,
                    clock: Callable[[], float] = time.monotonic) -> OpenAIImagesUpstream:
    """`base_url` ends at the version ("…/v1")."""
    base = base_url.rstrip("/")
    dialect = Dialect(url_for=lambda path: f"{base}{path}", headers={"Authorization": f"Bearer {api_key}"},
                      fields=None, model=None, streams=True)
    http = UpstreamHttp(UPSTREAM, timeout_seconds=timeout_seconds, client=client, secrets=[api_key], outputs=outputs)
    return OpenAIImagesUpstream(CAPABILITIES, dialect, http, clock)


def from_config(config: AdapterConfig) -> OpenAIImagesUpstream:
    return openai_upstream(api_key=config.api_key, timeout_seconds=config.timeout_seconds,
                           base_url=config.base_url or BASE_URL, client=config.client,
                           outputs=config.outputs)
