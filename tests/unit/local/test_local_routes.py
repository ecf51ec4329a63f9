"""local.api_gateway.routes: API Gateway's route selection over the template's declared routes."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.api_gateway.routes import RouteTable
from local.cloudformation.template import HttpRouteSpec, Template

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def table() -> RouteTable:
    return RouteTable(Template.load(ROOT / "template.yaml").http_routes)


def route(method: str, path: str) -> HttpRouteSpec:
    return HttpRouteSpec(function_id="F", event_id=f"{method}{path}", method=method, path=path, authorizer=None)


@pytest.mark.parametrize(("method", "path", "function_id", "route_key"), [
    ("POST", "/v1/images/edits", "ApiFunction", "POST /v1/images/edits"),
    ("GET", "/health", "ApiFunction", "GET /health"),
    ("GET", "/v1/jobs/job_123", "StatusFunction", "GET /v1/jobs/{job_id}"),
    ("GET", "/v1/jobs", "StatusFunction", "GET /v1/jobs"),
])
def test_declared_routes_match_their_function(table, method, path, function_id, route_key):
    match = table.match(method, path)
    assert match is not None
    assert (match.route.function_id, match.route.route_key) == (function_id, route_key)


def test_path_parameters_are_taken_from_the_placeholder_and_url_decoded(table):
    match = table.match("GET", "/v1/jobs/job%20one")
    assert match is not None and match.path_parameters == {"job_id": "job one"}


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/v1/images/edits"),  # declared for POST only
    ("POST", "/health"),
    ("PUT", "/v1/jobs"),
    ("GET", "/v1/jobs/"),  # empty parameter
    ("GET", "/v1/jobs/a/b"),
    ("GET", "/health/"),
    ("GET", "/nope"),
])
def test_undeclared_method_or_path_has_no_route(table, method, path):
    assert table.match(method, path) is None


def test_a_literal_segment_beats_a_parameter_and_an_exact_method_beats_any():
    table = RouteTable([route("GET", "/items/{id}"), route("GET", "/items/latest"), route("ANY", "/items/latest")])
    assert table.match("GET", "/items/latest").route.path == "/items/latest"
    assert table.match("GET", "/items/latest").route.method == "GET"
    assert table.match("DELETE", "/items/latest").route.method == "ANY"
    assert table.match("GET", "/items/7").path_parameters == {"id": "7"}


def test_a_greedy_parameter_takes_the_rest_of_the_path():
    table = RouteTable([route("GET", "/files/{proxy+}")])
    assert table.match("GET", "/files/a/b/c.png").path_parameters == {"proxy": "a/b/c.png"}
    assert table.match("GET", "/files") is None


@pytest.mark.parametrize(("method", "path", "proxy"), [
    ("POST", "/console/api/auth/sign_in", "auth/sign_in"),
    ("GET", "/console/api/v1/jobs", "v1/jobs"),
    ("DELETE", "/console/api/v1/jobs/job_123", "v1/jobs/job_123"),
    ("PUT", "/console/api/v1/end_users/u%201", "v1/end_users/u 1"),
])
def test_the_consoles_greedy_route_takes_every_method_and_path_under_its_prefix(table, method, path, proxy):
    # issue 21: `ANY /console/api/{proxy+}` (no authorizer), as API Gateway matches it, while /v1 keeps its own routes
    match = table.match(method, path)
    assert match is not None
    assert (match.route.function_id, match.route.route_key, match.route.authorizer) == (
        "ConsoleFunction", "ANY /console/api/{proxy+}", None)
    assert match.path_parameters == {"proxy": proxy}


@pytest.mark.parametrize("path", ["/console/api", "/console/api/", "/console/apis/v1/jobs", "/console"])
def test_the_consoles_prefix_alone_or_a_lookalike_has_no_route(table, path):
    assert table.match("GET", path) is None
