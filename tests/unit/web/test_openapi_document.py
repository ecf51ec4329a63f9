"""/openapi.json tells the truth: request bodies from the request models, query parameters, the real error
bodies and content types, no 422, no key on public routes; /docs runs the bundled Swagger UI under a CSP."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from retouch.web.openapi import openapi_document
from retouch.web.routes import system
from tests.builders import edit_payload, generation_payload, load_event


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(openapi_document())


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in document["paths"].items() for method, op in ops.items()]


def validator(document: dict[str, Any], media: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator({**media["schema"], "components": document["components"]})


def test_the_only_422_is_a_reused_idempotency_key_on_the_routes_that_take_one(document):
    keyed = {(m, p) for m, p, op in operations(document)
             if "Idempotency-Key" in {param["name"] for param in op.get("parameters", [])}}
    with_422 = {(m, p) for m, p, op in operations(document) if "422" in op["responses"]}
    assert with_422 == keyed >= {("post", "/v1/images/edits"), ("post", "/v1/images/generations")}
    assert all("idempotency_key_reused" in document["paths"][p][m]["responses"]["422"]["description"]
               for m, p in keyed)
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_the_idempotency_key_header_is_documented_with_its_limits(document):
    [header] = [p for p in document["paths"]["/v1/images/generations"]["post"]["parameters"]
                if p["name"] == "Idempotency-Key"]
    assert header["in"] == "header" and header["schema"]["maxLength"] == 255 and header["schema"]["minLength"] == 1
    responses = document["paths"]["/v1/images/generations"]["post"]["responses"]
    assert "idempotency_key_in_use" in responses["409"]["description"]


def test_deleting_a_job_documents_a_204_without_a_body(document):
    responses = document["paths"]["/v1/jobs/{job_id}"]["delete"]["responses"]
    assert set(responses) == {"204", "401", "404", "409", "429"} and "content" not in responses["204"]


def test_every_authenticated_route_documents_the_per_account_limits_429_and_no_public_one_does(document):
    # Every authenticated route counts against the account's per-minute limit (reads or submits), so any may
    # answer 429; a client generated from the document must expect it.
    authenticated = {(m, p) for m, p, op in operations(document) if op.get("security") != []}
    limited = {(m, p) for m, p, op in operations(document) if "429" in op["responses"]}
    assert limited == authenticated and ("get", "/v1/files") in authenticated
    assert all(op["responses"]["429"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
               for m, p, op in operations(document) if (m, p) in limited)


def test_both_posts_publish_their_bodies(document):
    edits = document["paths"]["/v1/images/edits"]["post"]["requestBody"]["content"]
    generations = document["paths"]["/v1/images/generations"]["post"]["requestBody"]["content"]
    assert set(edits) == {"multipart/form-data", "application/json"} and set(generations) == {"application/json"}
    form = document["components"]["schemas"]["EditRequestMultipart"]["properties"]
    assert form["image[]"]["items"]["format"] == "binary" and form["mask"]["format"] == "binary"


@pytest.mark.parametrize(("path", "sample", "payload"), [
    ("/v1/images/generations", "generation.json", None),
    ("/v1/images/edits", "edit_json.json", None),
    ("/v1/images/generations", None, generation_payload(n=2, quality="low", webhook_events=["job.failed"])),
    ("/v1/images/edits", None, edit_payload(mask={"image_url": "https://example.com/m.png"}, metadata={"k": "v"})),
])
def test_the_json_bodies_the_api_accepts_conform_to_the_published_schema(document, path, sample, payload):
    # Given a JSON body the API accepts (a recorded sample, or a built one)
    body = json.loads(load_event(sample)["body"]) if sample else payload

    # Then it validates against the schema published for that route
    media = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    errors = [e.message for e in validator(document, media).iter_errors(body)]
    assert errors == []


@pytest.mark.parametrize("body", [
    {"prompt": ""}, {"prompt": "x", "n": 0}, {"prompt": "x", "n": 11}, {"prompt": "x", "quality": "ultra"},
    {"prompt": "x", "tone": "warm"}, {"n": 1},
])
def test_bodies_the_api_refuses_are_refused_by_the_schema_too(document, body):
    media = document["paths"]["/v1/images/generations"]["post"]["requestBody"]["content"]["application/json"]
    assert not validator(document, media).is_valid(body)


def test_usage_routes_document_their_query_parameters(document):
    names = {path: {(p["name"], p["in"]) for p in document["paths"][path]["get"].get("parameters", [])}
             for path in ("/v1/usage", "/v1/usage/ledger")}
    assert names == {"/v1/usage": {("start", "query"), ("end", "query"), ("group_by", "query")},
                     "/v1/usage/ledger": {("limit", "query"), ("after", "query")}}
    [limit] = [p for p in document["paths"]["/v1/usage/ledger"]["get"]["parameters"] if p["name"] == "limit"]
    assert (limit["schema"]["type"], limit["schema"]["minimum"], limit["schema"]["maximum"]) == ("integer", 1, 100)


def test_the_job_list_documents_its_query_parameters(document):
    parameters = {p["name"]: p for p in document["paths"]["/v1/jobs"]["get"]["parameters"]}
    assert set(parameters) == {"limit", "after", "status", "kind", "created_after", "created_before", "user"}
    assert (parameters["limit"]["schema"]["minimum"], parameters["limit"]["schema"]["maximum"]) == (1, 100)
    [status] = [s for s in parameters["status"]["schema"]["anyOf"] if s.get("type") == "string"]
    assert status["enum"] == ["queued", "running", "succeeded", "failed", "canceled"]


def test_guarded_routes_document_both_401_bodies_and_public_routes_need_no_key(document):
    for method, path, op in operations(document):
        public = path in ("/health", "/openapi.json", "/v1/billing/stripe/webhook") or path.startswith(
            ("/docs", "/v1/upstream-callbacks/"))
        if public:
            assert op["security"] == [] and "401" not in op["responses"], (method, path)
        else:
            assert "security" not in op and document["security"] == [{"apiKey": []}]
            refs = {s["$ref"].rsplit("/", 1)[1] for s in op["responses"]["401"]["content"]["application/json"]
                    ["schema"]["anyOf"]}
            assert refs == {"ErrorBody", "GatewayMessage"}, (method, path)


def test_documents_and_pages_have_their_real_content_types(document):
    def media(path: str) -> set[str]:
        return set(document["paths"][path]["get"]["responses"]["200"]["content"])

    assert media("/openapi.json") == {"application/json"} and media("/docs") == {"text/html"}
    assert media(f"/docs/{system.SWAGGER_JS}") == {"text/javascript"}
    assert media(f"/docs/{system.SWAGGER_CSS}") == {"text/css"}


def test_swagger_ui_comes_from_this_origin_under_a_content_security_policy():
    # Given the /docs page and its policy
    page, policy = system.docs().body, system.CONTENT_SECURITY_POLICY

    # Then it loads nothing from elsewhere, and the policy allows only this origin (and the one inline start)
    assert "http://" not in page and "https://" not in page and "cdn" not in page
    assert f'src="/docs/{system.SWAGGER_JS}"' in page and f'href="/docs/{system.SWAGGER_CSS}"' in page
    assert "default-src 'none'" in policy and "script-src 'self' 'sha256-" in policy
    assert system.docs().headers["Content-Security-Policy"] == policy
    import base64
    import hashlib
    import re

    [inline] = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert f"'sha256-{base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()}'" in policy
    # and the assets are Powertools' own copy of Swagger UI
    assert "SwaggerUIBundle" in system.swagger_script().body and ".swagger-ui" in system.swagger_styles().body


def test_the_document_is_the_public_api_not_the_consoles_own_routes(document):
    # issue 21: the console's sign-in, session and people routes live under /console/api, for its front end only;
    # the public groups it mounts are documented once, at their /v1 paths
    from retouch.web.functions import CONSOLE_FUNCTION, CONSOLE_MOUNTED_GROUPS, ROUTES, route_group

    own = [route_group(name) for name in ROUTES[CONSOLE_FUNCTION] if name not in CONSOLE_MOUNTED_GROUPS]
    own_paths = {re.sub(r"<(\w+)>", r"{\1}", rule) for group in own for rule, *_ in group.router._routes}
    paths = set(document["paths"])
    assert "/auth/sign_in" in own_paths and not own_paths & paths
    assert all(path.startswith(("/v1/", "/health", "/docs", "/openapi.json")) for path in paths), sorted(paths)
    assert "/v1/jobs" in paths and "/v1/account" in paths
