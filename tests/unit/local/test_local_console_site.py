"""local.api_gateway.console_site: the console's files under /console/ as CloudFront serves them (client-side routes
get index.html, content types, cache policy, security headers), in front of the HTTP API's routes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from local.api_gateway.console_site import ConsoleSite, content_security_policy
from local.api_gateway.gateway import Gateway
from local.api_gateway.http_events import HttpRequest
from local.api_gateway.routes import RouteTable
from local.cloudformation.template import HttpRouteSpec
from local.lambdas.invocation import Invocation

S3 = "http://127.0.0.1:5000"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>console</title>")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path / "assets" / "index-abc123.css").write_text("body{}")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    return tmp_path


def _get(site: ConsoleSite, path: str, method: str = "GET") -> Any:
    return site.respond(HttpRequest(method=method, raw_path=path, raw_query="", headers=[], body=b""))


def _headers(response: Any) -> dict[str, str]:
    return dict(response.headers)


def test_files_come_with_their_type_cache_policy_and_the_security_headers(dist: Path):
    # Given the built console
    site = ConsoleSite(dist, S3)
    # When its script, stylesheet and page are asked for
    script, style, page = (_get(site, p) for p in ("/console/assets/index-abc123.js",
                                                   "/console/assets/index-abc123.css", "/console/"))
    # Then each has its content type, hashed assets are immutable and the page is revalidated
    assert script.status == 200 and script.body == b"console.log(1)"
    assert _headers(script)["content-type"].startswith("text/javascript")
    assert _headers(style)["content-type"].startswith("text/css")
    assert _headers(page)["content-type"] == "text/html; charset=utf-8" and b"<title>console" in page.body
    assert "immutable" in _headers(script)["cache-control"] and _headers(page)["cache-control"] == "no-cache"
    # And every answer carries the distribution's security headers, the CSP allowing the bucket for images/uploads
    for response in (script, style, page):
        headers = _headers(response)
        assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["content-security-policy"] == content_security_policy(S3)
        assert "default-src 'self'" in headers["content-security-policy"]
        assert f"img-src 'self' blob: {S3}" in headers["content-security-policy"]


def test_a_client_side_route_is_the_app_and_a_missing_file_is_404(dist: Path):
    site = ConsoleSite(dist, S3)
    # A path without an extension is one of the app's routes: index.html, for the app to render
    for route in ("/console/jobs", "/console/jobs/job_123", "/console/sign-in"):
        response = _get(site, route)
        assert response.status == 200 and b"<title>console" in response.body
    # A missing file is not the app
    assert _get(site, "/console/assets/nope.js").status == 404
    # /console alone redirects to the app's root; traversal is never a file
    assert _get(site, "/console").status == 301 and _headers(_get(site, "/console"))["location"] == "/console/"
    assert _get(site, "/console/../template.yaml").status == 404
    assert _get(site, "/console/assets//index-abc123.js").status == 404


def test_only_get_and_head_and_never_the_api_or_other_paths(dist: Path):
    site = ConsoleSite(dist, S3)
    assert _get(site, "/console/jobs", method="POST").status == 403
    head = _get(site, "/console/", method="HEAD")
    assert head.status == 200
    # The console's API and the public API are the HTTP API's, not files
    assert _get(site, "/console/api/session") is None
    assert _get(site, "/v1/jobs") is None and _get(site, "/consoles") is None


def test_an_unbuilt_console_says_how_to_build_it(tmp_path: Path):
    response = _get(ConsoleSite(tmp_path / "missing", S3), "/console/")
    assert response.status == 503 and b"make console" in response.body


def test_the_gateway_serves_the_site_before_its_routes(dist: Path):
    # Given a gateway with the console site and an API route under /console/api
    calls: list[str] = []

    def invoke(function_id: str, event: dict[str, Any]) -> Invocation:
        calls.append(event["rawPath"])
        return Invocation({"statusCode": 200, "body": json.dumps({"ok": True})}, failed=False)

    routes = RouteTable([HttpRouteSpec("ConsoleFn", "Console", "ANY", "/console/api/{proxy+}", None)])
    gateway = Gateway(routes, {}, invoke, console_site=ConsoleSite(dist, S3))
    # When the page and the API are asked for
    page = gateway.handle(HttpRequest("GET", "/console/keys", "", [], b""))
    api = gateway.handle(HttpRequest("GET", "/console/api/session", "", [], b""))
    # Then the page is the file (no function invoked) and the API reaches the function
    assert page.status == 200 and b"<title>console" in page.body
    assert api.status == 200 and calls == ["/console/api/session"]
