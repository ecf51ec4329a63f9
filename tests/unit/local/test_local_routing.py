"""`make run`'s routing: while the stand-ins run, gpt-image-2 goes to ModelsLab, then Runflow, then OpenAI (a person
can watch a fallback with `[fault:modelslab:503]`); with a real OpenAI key the template's default stays."""

from __future__ import annotations

import json

from local.cloudformation.template import Template
from local.settings import LocalSettings
from local.stack import DEFAULT_TEMPLATE, LoopbackStack
from retouch.routing.document import load_routing


class _StandIns:
    by_name: dict[str, object] = {}  # noqa: RUF012 - read only

    def to_json(self) -> str:
        return json.dumps({"modelslab": "http://127.0.0.1:9101/api/v7/images/image-to-image"})


def test_the_local_routing_file_sends_gpt_image_2_to_modelslab_then_runflow_then_openai(monkeypatch):
    monkeypatch.delenv("RETOUCH_LOCAL_ROUTING_DOCUMENT", raising=False)
    document = load_routing(str(LocalSettings().routing_document))
    assert [(route.name, route.kind) for route in document.routes_for("gpt-image-2")] == [
        ("modelslab", "modelslab"), ("runflow", "runflow"), ("openai", "openai")]
    assert document.secret_names() == set()  # every entry uses the stack's provider secret: the stand-ins' key


def test_the_stack_selects_it_only_while_the_stand_ins_run(tmp_path):
    routing = tmp_path / "routing.json"
    stack = LoopbackStack(stand_in_routing=routing)
    stack.template = Template.load(DEFAULT_TEMPLATE)
    # Given no stand-ins (a real OPENAI_API_KEY): the template's default routing stays
    assert "RoutingDocument" not in stack._derived_parameters()
    # When the stand-ins run: the local document, and their URLs for entries without base_url
    stack.upstreams = _StandIns()
    derived = stack._derived_parameters()
    assert derived["RoutingDocument"] == str(routing.resolve())
    assert json.loads(derived["UpstreamBaseUrls"])["modelslab"].endswith("/api/v7/images/image-to-image")

