"""The api function refuses at submit what none of a model's routed upstreams can serve (the routing document the
template's RoutingDocument names, and each upstream's documented capabilities): an OpenAI-style 400 naming the
parameter, and nothing stored, held or queued. Here gpt-image-2 is routed to ModelsLab (1 image, no mask) and Runflow
(up to 4 images), both edit-only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builders import edit_payload, generation_payload, json_event
from tests.integration.core.aws_stack import Stack, json_body
from tests.integration.core.test_api_function import (
    API,
    assert_nothing_left,
    assert_openai_error,
    queued_job_ids,
)

RESELLERS = Path(__file__).resolve().parents[2] / "fixtures" / "routing" / "resellers.json"


@pytest.fixture
def resellers_routing(stack: Stack) -> Iterator[Stack]:
    """The api function reading tests/fixtures/routing/resellers.json (a fresh cold start), then the template's."""
    with stack.cold_started_with(API, {"RETOUCH_ROUTING_DOCUMENT": str(RESELLERS)}):
        yield stack


def event(sample: str, payload: dict, account_id: str) -> dict:
    return json.loads(json.dumps(json_event(sample, payload, account_id="{account}")).replace("{account}", account_id))


@pytest.mark.parametrize(("sample", "payload", "param"), [
    pytest.param("edit_json.json", edit_payload(n=5), "n", id="n-above-every-upstream"),
    pytest.param("generation.json", generation_payload(), "model", id="generation-on-edit-only-upstreams"),
])
def test_a_request_no_routed_upstream_supports_is_a_400_naming_the_parameter(
        sample: str, payload: dict, param: str, resellers_routing: Stack, account_id: str) -> None:
    # When the api function gets a request neither ModelsLab nor Runflow can serve
    response = resellers_routing.invoke(API, event(sample, payload, account_id))
    # Then it is OpenAI's error shape naming the parameter, each upstream's reason in the message, nothing left behind
    assert_openai_error(response, 400, "unsupported_by_upstream", param)
    assert "modelslab" in json_body(response)["error"]["message"]
    assert_nothing_left(resellers_routing, account_id)


def test_a_request_one_routed_upstream_supports_is_queued(resellers_routing: Stack, account_id: str) -> None:
    # Given n=4: more than ModelsLab makes, as many as Runflow does
    response = resellers_routing.invoke(API, event("edit_json.json", edit_payload(n=4), account_id))
    assert response["statusCode"] == 202, response["body"]
    assert queued_job_ids(resellers_routing) == [json_body(response)["id"]]


def test_a_quote_no_routed_upstream_supports_is_refused_as_its_submit(resellers_routing: Stack,
                                                                       account_id: str) -> None:
    # When the quote of an edit neither ModelsLab nor Runflow can serve is asked for
    response = resellers_routing.invoke(API, event("create_quote.json", edit_payload(n=5), account_id))
    # Then it is the 400 the edit answers, naming the parameter
    assert_openai_error(response, 400, "unsupported_by_upstream", "n")
