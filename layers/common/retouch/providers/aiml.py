"""AIML API (`openai/gpt-image-2`): OpenAI-compatible `POST https://api.aimlapi.com/v1/images/edits`, Bearer key.

Per its documentation: images only as uploaded files (no URLs, no base64), at most 16; a PNG mask whose transparent
areas are edited; sizes 1024x1024, 1024x1536, 1536x1024 (default 1024x1024); quality low/medium/high (default
medium: our `auto` is left out, so it resolves to medium); n 1-10; answers `data[].url` plus
`meta.usage.usd_spent`, the money the call cost.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from retouch.providers.openai_images import Dialect, OpenAIImagesUpstream
from retouch.providers.upstream import AdapterConfig, OutputUrls, usd_to_micros
from retouch.providers.upstream_http import UpstreamHttp
from retouch.upstream_registry import UPSTREAMS

BASE_URL = "https://api.aimlapi.com/v1"
MODEL = "openai/gpt-image-2"

UPSTREAM = "aiml"
CAPABILITIES = UPSTREAMS[UPSTREAM].capabilities
# Fields its edits schema lists (no moderation/user/safety_identifier).
_FIELDS = frozenset({"prompt", "n", "size", "quality", "background", "output_format", "output_compression"})


def _usd_spent(body: dict[str, Any]) -> int | None:
    meta = body.get("meta")
    usage = meta.get("usage") if isinstance(meta, dict) else None
    return usd_to_micros(usage.get("usd_spent")) if isinstance(usage, dict) else None


def aiml_upstream(*, api_key: str, timeout_seconds: float, base_url: str = BASE_URL, model: str = MODEL,
                  client: httpx.Client | None = None, outputs: OutputUrls | None = None,
                  clock: Callable[[], float] = time.monotonic) -> OpenAIImagesUpstream:
    base = base_url.rstrip("/")
    dialect = Dialect(
        url_for=lambda path: f"{base}{path}", headers={"Authorization": f"Bearer {api_key}"}, fields=_FIELDS,
        model=model, omit_auto=frozenset({"size", "quality"}),
        defaults={"size": "1024x1024", "quality": "medium"}, cost=_usd_spent,
    )
    http = UpstreamHttp(UPSTREAM, timeout_seconds=timeout_seconds, client=client, secrets=[api_key], outputs=outputs)
    return OpenAIImagesUpstream(CAPABILITIES, dialect, http, clock)


def from_config(config: AdapterConfig) -> OpenAIImagesUpstream:
    return aiml_upstream(api_key=config.api_key, timeout_seconds=config.timeout_seconds,
                         base_url=config.base_url or BASE_URL, model=config.model, client=config.client,
                         outputs=config.outputs)
