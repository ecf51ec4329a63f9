"""local.cloudformation.template: short-form tags, and what the real template.yaml declares for the local runtime."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.cloudformation.template import Template, TemplateError, load_yaml

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def template() -> Template:
    return Template.load(ROOT / "template.yaml")


def test_short_form_tags_read_as_their_long_forms():
    # Given every short-form tag the template family uses
    text = """
    a: !Ref Table
    b: !GetAtt Queue.Arn
    c: !Sub "${Bucket.Arn}/*"
    d: !If [IsProd, Retain, Delete]
    e: !Equals [!Ref Stage, prod]
    f: !FindInMap [StageSettings, !Ref Stage, LogRetentionDays]
    g: !Join ["-", [a, !Ref Stage]]
    h: !Sub ["${X}", {X: !Ref Stage}]
    i: !Condition IsProd
    """
    # When it is loaded
    body = load_yaml(text)
    # Then each is the long form CloudFormation documents
    assert body["a"] == {"Ref": "Table"}
    assert body["b"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    assert body["c"] == {"Fn::Sub": "${Bucket.Arn}/*"}
    assert body["d"] == {"Fn::If": ["IsProd", "Retain", "Delete"]}
    assert body["e"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}
    assert body["f"] == {"Fn::FindInMap": ["StageSettings", {"Ref": "Stage"}, "LogRetentionDays"]}
    assert body["g"] == {"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}
    assert body["h"] == {"Fn::Sub": ["${X}", {"X": {"Ref": "Stage"}}]}
    assert body["i"] == {"Condition": "IsProd"}


def test_every_function_is_found_with_its_code_handler_and_limits(template):
    functions = template.functions
    assert {"AuthorizerFunction", "ApiFunction", "StatusFunction", "WorkerFunction", "DeadLetterFunction"} <= set(
        functions)
    api = functions["ApiFunction"]
    assert api.code_dir == ROOT / "functions" / "api"
    assert api.handler == "app.lambda_handler"
    assert (api.timeout, api.memory_size) == (29, 512)
    assert functions["WorkerFunction"].timeout == 900


def test_globals_fill_in_what_a_function_leaves_out():
    # Given a function that sets neither Timeout nor MemorySize nor Layers
    body = load_yaml("""
    Globals:
      Function: {Timeout: 11, MemorySize: 333, Layers: [!Ref Shared], Environment: {Variables: {A: "1", B: "g"}}}
    Resources:
      Shared: {Type: AWS::Serverless::LayerVersion, Properties: {ContentUri: layer/}}
      F:
        Type: AWS::Serverless::Function
        Properties: {CodeUri: f/, Handler: app.h, Environment: {Variables: {B: own, C: "3"}}}
    """)
    # When it is read
    spec = Template(path=Path("/repo/template.yaml"), body=body).functions["F"]
    # Then Globals apply and the function's own variables win
    assert (spec.timeout, spec.memory_size) == (11, 333)
    assert spec.environment == {"A": "1", "B": "own", "C": "3"}
    assert spec.layer_dirs == (Path("/repo/layer"),)


def test_the_common_layer_is_on_every_function_path(template):
    # SAM appends a function's own Layers (Pillow's, for the functions that inspect images) to the global one.
    # And the MCP SDK's, for the mcp function only (issue 22); Stripe's library is the payments functions' own layer;
    # the console's backend serves the image and payments routes, so it has both (issue 21).
    own_layers = {"ApiFunction": ("images",), "SyncFunction": ("images",), "WorkerFunction": ("images",),
                  "McpFunction": ("mcp",), "PaymentsFunction": ("payments",), "RechargeFunction": ("payments",),
                  "ConsoleFunction": ("images", "payments")}
    for function_id, spec in template.functions.items():
        own = tuple(ROOT / "layers" / layer for layer in own_layers.get(function_id, ()))
        assert spec.layer_dirs == (ROOT / "layers" / "common", *own), function_id


def test_function_environment_merges_globals_with_its_own(template):
    worker = template.functions["WorkerFunction"].environment
    assert worker["POWERTOOLS_SERVICE_NAME"] == "retouch"
    assert worker["RETOUCH_TABLE_NAME"] == {"Ref": "Table"}
    assert worker["RETOUCH_PROVIDER_SECRET_ARN"] == {"Ref": "ProviderApiKeySecret"}
    assert worker["RETOUCH_MAX_ATTEMPTS"] == 4


def test_every_httpapi_event_is_a_route_and_only_auth_none_routes_are_public(template):
    # Given the raw template's HttpApi events
    events = {(fid, eid): e["Properties"] for fid, f in template.resources.items()
              for eid, e in (f.get("Properties", {}).get("Events") or {}).items() if e["Type"] == "HttpApi"}
    routes = {(r.function_id, r.event_id): r for r in template.http_routes}
    # Then each is a route, guarded by the default authorizer unless it says `Authorizer: NONE`
    assert set(routes) == set(events)
    for key, props in events.items():
        public = (props.get("Auth") or {}).get("Authorizer") == "NONE"
        assert routes[key].authorizer == (None if public else "ApiKeyAuthorizer"), key


def test_the_core_routes_are_declared_with_their_functions(template):
    routes = {(r.method, r.path): (r.function_id, r.authorizer) for r in template.http_routes}
    assert routes[("POST", "/v1/images/edits")] == ("ApiFunction", "ApiKeyAuthorizer")
    assert routes[("POST", "/v1/images/generations")] == ("ApiFunction", "ApiKeyAuthorizer")
    assert routes[("GET", "/v1/models")] == ("ApiFunction", "ApiKeyAuthorizer")
    assert routes[("GET", "/health")] == ("ApiFunction", None)
    assert routes[("GET", "/v1/jobs/{job_id}")] == ("StatusFunction", "ApiKeyAuthorizer")


def test_the_lambda_authorizer_is_read_with_its_identity_and_cache(template):
    authorizer = template.authorizers["ApiKeyAuthorizer"]
    assert authorizer.function_id == "AuthorizerFunction"
    assert authorizer.identity_headers == ("authorization",)
    assert authorizer.reauthorize_every == 30
    assert authorizer.simple_responses is True
    assert authorizer.payload_format_version == "2.0"


def test_sqs_mappings_name_their_queue_batch_and_partial_failures(template):
    mappings = {m.function_id: m for m in template.sqs_mappings}
    assert {"WorkerFunction", "DeadLetterFunction"} <= set(mappings)
    worker, dead_letter = mappings["WorkerFunction"], mappings["DeadLetterFunction"]
    assert (worker.queue_id, worker.report_batch_item_failures) == ("JobsQueue", True)
    # The worker's batch and window are parameters, resolved as the stack resolves them (to their defaults here)
    assert (worker.batch_size, worker.batching_window_seconds) == ({"Ref": "WorkerBatchSize"},
                                                                  {"Ref": "WorkerBatchingWindowSeconds"})
    defaults = {"WorkerBatchSize": 4, "WorkerBatchingWindowSeconds": 0}
    resolved = worker.resolved(lambda value: defaults[value["Ref"]] if isinstance(value, dict) else value)
    assert (resolved.batch_size, resolved.batching_window_seconds) == (4, 0)
    assert (dead_letter.queue_id, dead_letter.batch_size, dead_letter.batching_window_seconds) == (
        "JobsDeadLetterQueue", 10, 0)


def test_a_route_naming_an_unknown_authorizer_is_refused():
    body = load_yaml("""
    Resources:
      F:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: f/
          Handler: app.h
          Events:
            E: {Type: HttpApi, Properties: {Path: /x, Method: GET, Auth: {Authorizer: Nope}}}
    """)
    with pytest.raises(TemplateError, match="Nope"):
        _ = Template(path=Path("/repo/template.yaml"), body=body).http_routes


@pytest.mark.parametrize(("logical_id", "short"), [("ApiFunction", "api"), ("DeadLetterFunction", "dead-letter")])
def test_console_prefix_is_the_short_kebab_name(template, logical_id, short):
    assert template.functions[logical_id].short_name == short
