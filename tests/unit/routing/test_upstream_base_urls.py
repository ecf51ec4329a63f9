"""Where a routing entry is called: its own `base_url`, else the UpstreamBaseUrls parameter's URL for its kind (the
local stack's stand-ins), else the provider's documented URL; an Azure entry must end up with one."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from pydantic import ValidationError

from retouch.config import WorkerSettings

WORKER = {"table_name": "t", "bucket_name": "bucket", "jobs_queue_url": "http://q/jobs", "recharge_queue_url": "http://q/rc",
          "provider_base_url": "https://openai.test/v1", "provider_secret_arn": "arn:secret",
          "url_allowlist": "127.0.0.1:9100,127.0.0.1:9102",
          "webhooks_queue_url": "http://q/hooks", "upstream_secrets_prefix": "retouch/upstreams/"}
OPENAI_ONLY = {"gpt-image-1.5": [{"name": "openai", "kind": "openai"}],
               "gpt-image-1-mini": [{"name": "openai", "kind": "openai"}]}


def routing_file(tmp_path: Path, gpt_image_2: list[dict[str, str]]) -> str:
    path = tmp_path / f"routing-{uuid.uuid4().hex}.json"  # load_routing caches by name
    path.write_text(json.dumps({"models": {"gpt-image-2": gpt_image_2, **OPENAI_ONLY}}))
    return str(path)


def test_an_entry_without_base_url_is_called_at_the_parameters_url_for_its_kind(tmp_path):
    # Given UpstreamBaseUrls naming a stand-in for runflow (the JSON text the template passes)
    settings = WorkerSettings(**WORKER, routing_document=routing_file(tmp_path, [{"name": "rf", "kind": "runflow"}]),
                              upstream_base_urls=json.dumps({"runflow": "http://127.0.0.1:9102/v1/run"}))
    # Then an entry of that kind without its own base_url goes there, an explicit one wins, other kinds keep theirs
    assert settings.base_url("runflow", None) == "http://127.0.0.1:9102/v1/run"
    assert settings.base_url("runflow", "https://runflow.example/v1/run") == "https://runflow.example/v1/run"
    assert settings.base_url("fal", None) is None


def test_the_default_empty_object_keeps_every_documented_url(tmp_path):
    settings = WorkerSettings(**WORKER, routing_document=routing_file(tmp_path, [{"name": "rf", "kind": "runflow"}]),
                              upstream_base_urls="{}")
    assert settings.upstream_base_urls == {}
    assert settings.base_url("runflow", None) is None


def test_an_azure_entry_needs_its_resource_from_the_document_or_the_parameter(tmp_path):
    document = routing_file(tmp_path, [{"name": "azure", "kind": "azure_openai", "deployment": "gpt-image-2"}])
    # Given an Azure entry with a deployment but no base_url: refused at cold start when nothing names the resource
    with pytest.raises(ValidationError, match=r"azure_openai upstreams with no `base_url`.*azure"):
        WorkerSettings(**WORKER, routing_document=document)
    # When UpstreamBaseUrls names one (the local stand-in), Then it is called there
    settings = WorkerSettings(**WORKER, routing_document=document,
                              upstream_base_urls={"azure_openai": "http://127.0.0.1:9100"})
    assert settings.base_url("azure_openai", None) == "http://127.0.0.1:9100"


def test_base_urls_for_unknown_kinds_or_not_http_are_refused(tmp_path):
    document = routing_file(tmp_path, [{"name": "openai", "kind": "openai"}])
    with pytest.raises(ValidationError, match="unknown upstream kinds"):
        WorkerSettings(**WORKER, routing_document=document, upstream_base_urls={"midjourney": "http://x"})
    with pytest.raises(ValidationError):
        WorkerSettings(**WORKER, routing_document=document, upstream_base_urls={"fal": "ftp://x"})


@pytest.mark.parametrize(("base_urls", "allowlist"), [
    ({"fal": "http://fal.example"}, ""),  # plain http over the network
    ({"fal": "http://fal.example"}, "fal.example"),  # allowlisting a remote host does not make http safe
    ({"fal": "http://127.0.0.1:9104"}, ""),  # loopback, but not allowlisted
    ({"fal": "http://127.0.0.1:9104"}, "127.0.0.1:9999"),  # allowlisted on another port
])
def test_a_plain_http_upstream_is_refused_at_cold_start(tmp_path, base_urls, allowlist):
    # Given a base URL that would carry an upstream's key in the clear
    document = routing_file(tmp_path, [{"name": "f", "kind": "fal"}])
    # When the worker's settings are validated, Then the cold start fails
    with pytest.raises(ValidationError, match="must be https"):
        WorkerSettings(**{**WORKER, "url_allowlist": allowlist}, routing_document=document,
                       upstream_base_urls=base_urls)


def test_a_plain_http_entry_base_url_or_provider_url_is_refused_too(tmp_path):
    entry = routing_file(tmp_path, [{"name": "f", "kind": "fal", "base_url": "http://fal.example"}])
    with pytest.raises(ValidationError, match="must be https"):
        WorkerSettings(**WORKER, routing_document=entry)
    with pytest.raises(ValidationError, match="must be https"):
        WorkerSettings(**{**WORKER, "provider_base_url": "http://api.openai.example/v1"},
                       routing_document=routing_file(tmp_path, [{"name": "f", "kind": "fal"}]))


def test_plain_http_to_an_allowlisted_loopback_stand_in_is_accepted(tmp_path):
    settings = WorkerSettings(**{**WORKER, "url_allowlist": "127.0.0.1:9104", "provider_base_url": "https://x.test"},
                              routing_document=routing_file(tmp_path, [{"name": "f", "kind": "fal"}]),
                              upstream_base_urls={"fal": "http://127.0.0.1:9104"})
    assert settings.base_url("fal", None) == "http://127.0.0.1:9104"
