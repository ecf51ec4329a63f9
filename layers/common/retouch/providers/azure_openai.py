"""Azure OpenAI: OpenAI's images API on a deployment of the operator's Azure resource.

`POST {endpoint}/openai/deployments/{deployment}/images/edits?api-version={api_version}` (and `/images/generations`),
the key in the `api-key` header, the model chosen by the deployment (no `model` field). Synchronous; inputs and
mask (alpha: transparent = edit) as multipart bytes; answers `data[].b64_json`; reports tokens, not money.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import quote

import httpx

from retouch.providers.openai_images import Dialect, OpenAIImagesUpstream
from retouch.providers.upstream import AdapterConfig, OutputUrls
from retouch.providers.upstream_http import UpstreamHttp
from retouch.upstream_registry import UPSTREAMS

DEFAULT_API_VERSION = "2025-04-01-preview"

UPSTREAM = "azure_openai"
CAPABILITIES = UPSTREAMS[UPSTREAM].capabilities
_FIELDS = frozenset({"prompt", "n", "size", "quality", "background", "output_format", "output_compression",
                     "moderation", "user"})


def azure_openai_upstream(*, endpoint: str, deployment: str, api_key: str, timeout_seconds: float,
                          api_version: str = DEFAULT_API_VERSION, client: httpx.Client | None = None,
                          outputs: OutputUrls | None = None,
                          clock: Callable[[], float] = time.monotonic) -> OpenAIImagesUpstream:
    """`endpoint` is the resource's base URL, e.g. "https://my-resource.openai.azure.com"."""
    base = f"{endpoint.rstrip('/')}/openai/deployments/{quote(deployment, safe='')}"
    dialect = Dialect(
        url_for=lambda path: f"{base}{path}?api-version={quote(api_version, safe='')}",
        headers={"api-key": api_key}, fields=_FIELDS, model=None,
        job_id_headers=("apim-request-id", "x-request-id"), streams=True,
    )
    http = UpstreamHttp(UPSTREAM, timeout_seconds=timeout_seconds, client=client, secrets=[api_key], outputs=outputs)
    return OpenAIImagesUpstream(CAPABILITIES, dialect, http, clock)


def from_config(config: AdapterConfig) -> OpenAIImagesUpstream:
    if not (config.base_url and config.deployment):  # the routing document's and the settings' validators see to it
        raise ValueError("an azure_openai adapter needs a base_url (the resource's endpoint) and a deployment")
    return azure_openai_upstream(endpoint=config.base_url, deployment=config.deployment, api_key=config.api_key,
                                 timeout_seconds=config.timeout_seconds,
                                 api_version=config.api_version or DEFAULT_API_VERSION, client=config.client,
                                 outputs=config.outputs)
