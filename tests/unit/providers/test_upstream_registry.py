"""The upstream registry is complete, and it is the only list of upstream kinds: every kind has an adapter factory
that builds its adapter, recordings under tests/fixtures/providers/<kind>/ and a local stand-in for it; routing, the
catalog, the worker's wiring and the local stack derive their kinds from it, and no other module enumerates them."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from local.stand_ins import FakeProvider
from local.stand_ins.stand_in import StandIn
from local.stand_ins.upstreams import ASYNC_UPSTREAMS, STACK_PROVIDER_KIND, STAND_INS, stand_in_class
from retouch.catalog import MODELS
from retouch.config import WorkerSettings
from retouch.providers.base import InputImage
from retouch.providers.upstream import AdapterConfig, build_adapter
from retouch.routing.document import RoutingDocument, UpstreamRoute
from retouch.upstream_registry import UPSTREAMS, load
from retouch.wiring.upstreams import adapter_for
from tests.builders import REPO_ROOT
from tests.fakes import FakeObjectStore
from tests.unit.providers.replay import FIXTURES

KINDS = sorted(UPSTREAMS)
RETOUCH = REPO_ROOT / "layers" / "common" / "retouch"


def _presign(image: InputImage) -> str:
    return f"https://inputs.test/{image.filename}"


def route_for(kind: str, **extra: Any) -> UpstreamRoute:
    fields = {name: "x" for name in UPSTREAMS[kind].route_fields}
    return UpstreamRoute(name=f"{kind.replace('_', '-')}-1", kind=kind, **fields, **extra)


# -- Complete: each kind has all its parts ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_has_recordings_to_replay(kind: str) -> None:
    recordings = sorted((FIXTURES / kind).glob("*.json"))
    assert recordings, f"no recorded exchanges under tests/fixtures/providers/{kind}/ (docs/adding-an-upstream.md)"


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_has_a_local_stand_in_for_it(kind: str) -> None:
    found = load(UPSTREAMS[kind].stand_in)
    assert isinstance(found, type) and issubclass(found, StandIn), UPSTREAMS[kind].stand_in
    assert found.upstream == kind, "a stand-in's `upstream` (its fault target) is the kind it stands in for"
    assert stand_in_class(kind) is found


@pytest.mark.parametrize("kind", KINDS)
def test_each_kinds_factory_builds_an_adapter_declaring_the_registered_capabilities(kind: str) -> None:
    entry = UPSTREAMS[kind]
    assert entry.adapter.startswith("retouch.providers."), "adapters live in retouch.providers"
    config = AdapterConfig(api_key="k", timeout_seconds=5, presign=_presign, model=next(iter(entry.models.values())),
                           base_url="https://upstream.test/v1", deployment="d")
    adapter = build_adapter(kind, config)
    assert adapter.capabilities is entry.capabilities
    assert callable(adapter.submit) and callable(adapter.poll)


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_serves_catalog_models_only(kind: str) -> None:
    assert UPSTREAMS[kind].models, f"{kind} serves no model"
    assert set(UPSTREAMS[kind].models) <= set(MODELS)


def test_every_catalog_model_is_served_by_some_kind() -> None:
    assert all(spec.upstreams for spec in MODELS.values())


# -- Read by every consumer ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_routing_accepts_every_registered_kind(kind: str) -> None:
    assert route_for(kind).kind == kind


def test_routing_refuses_a_kind_the_registry_does_not_name() -> None:
    with pytest.raises(ValidationError, match="unknown upstream kind 'midjourney'; registered: openai"):
        UpstreamRoute(name="mj", kind="midjourney")


@pytest.mark.parametrize("kind", [kind for kind in KINDS if UPSTREAMS[kind].route_fields])
def test_routing_requires_the_fields_a_kind_registers(kind: str) -> None:
    with pytest.raises(ValidationError, match=f"{kind} needs"):
        UpstreamRoute(name="needy", kind=kind)


def test_the_catalog_lists_per_model_the_kinds_the_registry_says_serve_it() -> None:
    served = {(model_id, kind) for model_id, spec in MODELS.items() for kind, _name in spec.upstreams}
    assert served == {(model_id, kind) for kind, entry in UPSTREAMS.items() for model_id in entry.models}


def test_a_routing_document_may_route_a_model_to_every_kind_serving_it() -> None:
    models = {model_id: [route_for(kind) for kind, _ in spec.upstreams] for model_id, spec in MODELS.items()}
    document = RoutingDocument(models=models)
    assert {route.kind for routes in document.models.values() for route in routes} == set(UPSTREAMS)


@pytest.mark.parametrize("kind", KINDS)
def test_the_worker_wires_each_kind_through_its_registered_factory(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "routing.json"
    path.write_text(RoutingDocument(models={model_id: [route_for("openai")] for model_id in MODELS})
                    .model_dump_json(exclude_none=True))
    settings = WorkerSettings(table_name="t", bucket_name="bucket", jobs_queue_url="http://q/jobs", recharge_queue_url="http://q/rc",
                              provider_base_url="https://openai.test/v1", provider_secret_arn="arn:secret",
                              webhooks_queue_url="http://q/hooks", upstream_secrets_prefix="retouch/upstreams/",
                              routing_document=str(path), upstream_base_urls={kind: "https://stand-in.test/v1"})
    adapter = adapter_for(route_for(kind), "its-model", settings, FakeObjectStore(), "a-key")  # type: ignore[arg-type]
    assert adapter.capabilities is UPSTREAMS[kind].capabilities


def test_the_local_stack_runs_the_registered_stand_ins_and_derives_its_async_set() -> None:
    assert set(STAND_INS) | {STACK_PROVIDER_KIND} == set(UPSTREAMS)
    assert {kind: load(UPSTREAMS[kind].stand_in) for kind in STAND_INS} == STAND_INS
    assert load(UPSTREAMS[STACK_PROVIDER_KIND].stand_in) is FakeProvider  # the stack's own provider
    assert {kind for kind, entry in UPSTREAMS.items() if entry.mode == "async"} == ASYNC_UPSTREAMS


def _kind_literals(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in UPSTREAMS}


@pytest.mark.parametrize("root", ["layers/common/retouch", "local", "functions"])
def test_no_module_but_the_registry_enumerates_upstream_kinds(root: str) -> None:
    # A module naming two or more kinds as strings is a second list of them, one more place to forget a new one.
    registry = RETOUCH / "upstream_registry.py"
    enumerating = {str(path.relative_to(REPO_ROOT)): sorted(kinds) for path in sorted((REPO_ROOT / root).rglob("*.py"))
                   if path != registry and len(kinds := _kind_literals(path)) > 1}
    assert enumerating == {}


def test_the_docs_walk_through_names_the_registry() -> None:
    page = (REPO_ROOT / "docs" / "adding-an-upstream.md").read_text()
    assert "retouch/upstream_registry.py" in page
    assert re.search(r"tests/fixtures/providers/<kind>/", page)
