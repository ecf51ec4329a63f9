"""The api function (functions/api/app.py) on events/*.json, against moto resources built from template.yaml."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from retouch.catalog import GPT_IMAGE_2
from retouch.data.jobs import JobRepository
from retouch.models.records import JobRecord
from retouch.models.webhooks import JobWebhook
from tests.builders import (
    data_url,
    edit_payload,
    file_part,
    generation_payload,
    http_event,
    image_bytes,
    job_event,
    json_event,
    load_event,
    mask_png,
    multipart_event,
    new_job_id,
    png,
)
from tests.integration.core.aws_stack import Stack, client, json_body

API = "ApiFunction"


def assert_openai_error(response: dict[str, Any], status: int, code: str, param: str | None) -> None:
    assert response["statusCode"] == status, response["body"]
    assert response["headers"]["Content-Type"].startswith("application/json")
    error = json_body(response)["error"]
    assert (error["code"], error["param"]) == (code, param)
    assert error["message"] and error["type"] in ("invalid_request_error", "server_error")


def assert_nothing_left(stack: Stack, account_id: str) -> None:
    assert stack.jobs_of(account_id) == []
    assert stack.keys_under(f"inputs/{account_id}/") == []
    assert stack.message_counts(stack.jobs_queue) == (0, 0)


def queued_job_ids(stack: Stack) -> list[str]:
    return [json.loads(m["Body"])["job_id"] for m in stack.receive(stack.jobs_queue)]


# -- Accepted submissions -----------------------------------------------------------------------------


def test_sample_multipart_edit_is_stored_and_queued(stack: Stack, account_id: str) -> None:
    # Given the recorded multipart edit, sent by this test's account
    event = http_event("edit_multipart.json", account_id=account_id)

    # When the api function handles it
    response = stack.invoke(API, event)

    # Then it answers 202 with the job and its Location
    assert response["statusCode"] == 202, response["body"]
    job = json_body(response)
    assert job["status"] == "queued" and job["object"] == "image.job" and job["kind"] == "edit"
    assert response["headers"]["Location"] == f"/v1/jobs/{job['id']}"
    # and the inputs are in S3 where the job in DynamoDB says, the job id on the queue
    item = stack.job_item(job["id"])
    assert item is not None and item["status"] == "queued" and item["gsi1pk"] == f"ACCOUNT#{account_id}"
    stored = [i["key"] for i in item["inputs"]] + ([item["mask"]["key"]] if item.get("mask") else [])
    assert stored and stack.keys_under(f"inputs/{account_id}/") == sorted(stored)
    assert all(key.startswith(f"inputs/{account_id}/{job['id']}/") for key in stored)
    assert queued_job_ids(stack) == [job["id"]]


def test_sample_json_edit_with_data_url_is_queued(stack: Stack, account_id: str) -> None:
    # Given the recorded JSON edit (a data: URL image)
    event = http_event("edit_json.json", account_id=account_id)

    # When the api function handles it
    response = stack.invoke(API, event)

    # Then it is accepted and the decoded image stored
    assert response["statusCode"] == 202, response["body"]
    job_id = json_body(response)["id"]
    assert stack.keys_under(f"inputs/{account_id}/{job_id}/") == [f"inputs/{account_id}/{job_id}/image_0.png"]
    assert queued_job_ids(stack) == [job_id]


def test_json_edit_with_https_url_stores_no_input(stack: Stack, account_id: str) -> None:
    # Given a JSON edit whose image is an https URL
    event = json_event("edit_json.json", edit_payload(images=[{"image_url": "https://images.example/a.png"}]),
                       account_id=account_id)

    # When the api function handles it
    response = stack.invoke(API, event)

    # Then it is accepted; the URL is left for the worker to fetch
    assert response["statusCode"] == 202, response["body"]
    assert stack.keys_under(f"inputs/{account_id}/") == []
    assert stack.job_item(json_body(response)["id"])["inputs"] == [{"url": "https://images.example/a.png"}]


def test_sample_generation_with_prefer_wait_zero(stack: Stack, account_id: str) -> None:
    # Given the recorded generation, which sends `Prefer: wait=0`
    event = http_event("generation.json", account_id=account_id)

    # When the api function handles it
    response = stack.invoke(API, event)

    # Then it answers at once, 202, saying which preference it applied
    assert response["statusCode"] == 202
    assert response["headers"]["Preference-Applied"] == "wait=0"
    body = json_body(response)
    assert (body["size"], body["quality"], body["request"]["prompt"]) == ("1536x1024", "low", "a lighthouse at dawn")
    assert queued_job_ids(stack) == [body["id"]]


@pytest.mark.parametrize("sample", ["generation.json", "edit_json.json"])
def test_null_webhook_events_is_accepted_as_absent(sample: str, stack: Stack, account_id: str) -> None:
    # Given a JSON submission with "webhook_events": null (it used to be a 500)
    payload = (generation_payload if sample == "generation.json" else edit_payload)(webhook_events=None)
    event = json_event(sample, payload, account_id=account_id)

    # When the api function handles it
    response = stack.invoke(API, event)

    # Then the job is accepted, as if the field were left out
    assert response["statusCode"] == 202, response["body"]
    assert json_body(response)["status"] == "queued"


def test_prefer_wait_never_outlives_the_function(stack: Stack, account_id: str) -> None:
    # Given a client willing to wait 20 s, and a function with 4 s left (no worker runs here, the job stays queued)
    event = http_event("generation.json", account_id=account_id)
    event["headers"]["prefer"] = "wait=20"

    # When the api function handles it
    response = stack.invoke(API, event, remaining_millis=4_000)

    # Then it holds only what the function's time allows (4 s less the margin to answer), then answers 202
    assert response["statusCode"] == 202
    applied = float(response["headers"]["Preference-Applied"].removeprefix("wait="))
    assert 0 < applied <= 1


# -- Refusals: OpenAI-shaped, and nothing left behind ---------------------------------------------------


REFUSALS = [
    pytest.param(lambda: multipart_event([("prompt", "p"), file_part("image[]", image_bytes("gif", 16, 16), "x.png")],
                                         account_id="{account}"), 400, "invalid_image_format", "image[0]",
                 id="gif-named-png"),
    pytest.param(lambda: multipart_event([("prompt", "p"), file_part("image", png(96, 64)),
                                          file_part("mask", mask_png(64, 64))], account_id="{account}"),
                 400, "invalid_mask", "mask", id="mask-wrong-size"),
    pytest.param(lambda: multipart_event([("prompt", "p"), file_part("image", png()), ("input_fidelity", "high")],
                                         account_id="{account}"), 400, "unsupported_parameter", "input_fidelity",
                 id="unsupported-param"),
    pytest.param(lambda: json_event("generation.json", generation_payload(model="gpt-image-9"),
                                    account_id="{account}"), 400, "model_not_found", "model", id="unknown-model"),
    pytest.param(lambda: json_event("generation.json", generation_payload(size="1008x640"), account_id="{account}"),
                 400, "invalid_size", "size", id="too-few-pixels"),
    pytest.param(lambda: json_event("generation.json", generation_payload(tone="warm"), account_id="{account}"),
                 400, "unknown_parameter", "tone", id="unknown-param"),
    pytest.param(lambda: json_event("edit_json.json", edit_payload(images=[{"image_url": data_url(png())}] * 17),
                                    account_id="{account}"), 400, "invalid_value", "image", id="17-images"),
    pytest.param(lambda: http_event("generation.json", account_id="{account}", body="{oops", base64_body=False),
                 400, "invalid_json", None, id="invalid-json"),
    pytest.param(lambda: http_event("edit_multipart.json", account_id="{account}", body=b"--x\r\n\r\n",
                                    content_type="multipart/form-data; boundary=x"),
                 400, "invalid_multipart", None, id="malformed-multipart"),
    pytest.param(lambda: multipart_event([("prompt", b"caf\xe9"), file_part("image", png())], account_id="{account}"),
                 400, "invalid_encoding", "prompt", id="multipart-text-not-utf8"),
    pytest.param(lambda: http_event("generation.json", account_id="{account}", body=b'{"prompt": "caf\xe9"}',
                                    content_type="application/json", base64_body=True),
                 400, "invalid_encoding", "prompt", id="json-text-not-utf8"),
    pytest.param(lambda: http_event("edit_multipart.json", account_id="{account}", body="prompt=p",
                                    content_type="application/x-www-form-urlencoded", base64_body=False),
                 415, "unsupported_media_type", None, id="form-urlencoded"),
]


@pytest.mark.parametrize(("build", "status", "code", "param"), REFUSALS)
def test_refused_submission_leaves_nothing_behind(build: Any, status: int, code: str, param: str | None,
                                                  stack: Stack, account_id: str) -> None:
    # Given a submission breaking one rule
    event = json.loads(json.dumps(build()).replace("{account}", account_id))

    # When the api function handles it
    response = stack.invoke(API, event)

    # Then the client gets an OpenAI error naming the problem, and no job, object or message exists
    assert_openai_error(response, status, code, param)
    assert_nothing_left(stack, account_id)


def test_body_over_max_body_bytes_is_413(stack: Stack, account_id: str) -> None:
    # Given a body one byte over the api function's configured cap
    from retouch.config import api_settings

    limit = api_settings().max_body_bytes
    event = http_event("generation.json", account_id=account_id, body="x" * (limit + 1),
                       content_type="application/json", base64_body=False)

    # When the api function handles it
    response = stack.invoke(API, event)

    # Then it is 413 payload_too_large and nothing was kept
    assert_openai_error(response, 413, "payload_too_large", None)
    assert_nothing_left(stack, account_id)


def test_enqueue_failure_is_503_and_the_job_is_not_left_queued(stack: Stack, account_id: str) -> None:
    # Given a jobs queue that no longer exists (sending to it fails)
    sqs = client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=stack.jobs_queue, AttributeNames=["All"])["Attributes"]
    name = stack.jobs_queue.rsplit("/", 1)[1]
    sqs.delete_queue(QueueUrl=stack.jobs_queue)
    try:
        event = multipart_event([("prompt", "p"), file_part("image", png())], account_id=account_id)

        # When an edit is submitted
        response = stack.invoke(API, event)
    finally:
        kept = {k: attributes[k] for k in ("VisibilityTimeout", "MessageRetentionPeriod", "RedrivePolicy")}
        assert sqs.create_queue(QueueName=name, Attributes=kept)["QueueUrl"] == stack.jobs_queue

    # Then the client gets 503 queue_unavailable, the job ended failed and its input was deleted
    assert_openai_error(response, 503, "queue_unavailable", None)
    [item] = stack.jobs_of(account_id)
    assert item["status"]["S"] == "failed" and item["error"]["M"]["code"]["S"] == "queue_unavailable"
    assert stack.keys_under(f"inputs/{account_id}/") == []


@pytest.mark.parametrize("sample", ["edit_multipart.json", "generation.json", "list_models.json"])
def test_request_without_an_account_is_401(sample: str, stack: Stack) -> None:
    # Given a request the authorizer passed with no account (unknown, revoked or missing key)
    event = http_event(sample, account_id=None)

    # When the api function handles it
    response = stack.invoke(API, event)

    # Then it is OpenAI's 401, and nothing is queued
    assert_openai_error(response, 401, "invalid_api_key", None)
    assert stack.message_counts(stack.jobs_queue) == (0, 0)


# -- Models, health, docs --------------------------------------------------------------------------------


def test_models_lists_gpt_image_2_with_its_limits(stack: Stack, account_id: str) -> None:
    # Given the recorded models request
    response = stack.invoke(API, http_event("list_models.json", account_id=account_id))

    # Then it lists the catalog's model with the limits validation uses
    assert response["statusCode"] == 200
    body = json_body(response)
    models = {listed["id"]: listed for listed in body["data"]}
    assert set(models) == {"gpt-image-2", "gpt-image-1.5", "gpt-image-1-mini"}
    model = models["gpt-image-2"]
    assert body["object"] == "list" and model["id"] == "gpt-image-2" and model["object"] == "model"
    assert model["limits"]["max_images"] == GPT_IMAGE_2.limits.max_images == 16
    assert model["limits"]["max_pixels"] == GPT_IMAGE_2.limits.max_pixels
    assert model["limits"]["max_image_pixels"] == GPT_IMAGE_2.limits.max_image_pixels == 50_000_000
    assert "input_fidelity" in model["unsupported_parameters"]


def _retrieve_model_event(model_id: str, account_id: str) -> dict[str, Any]:
    event = http_event("list_models.json", account_id=account_id)
    event.update(routeKey="GET /v1/models/{model_id}", rawPath=f"/v1/models/{model_id}",
                 pathParameters={"model_id": model_id})
    event["requestContext"].update(routeKey="GET /v1/models/{model_id}")
    event["requestContext"]["http"].update(path=f"/v1/models/{model_id}")
    return event


def test_a_model_is_retrieved_by_id_or_dated_alias_with_its_parameter_schema(stack: Stack, account_id: str) -> None:
    # When gpt-image-2 is asked for by its dated alias, and gpt-image-1.5 by its id
    by_alias = stack.invoke(API, _retrieve_model_event("gpt-image-2-2026-04-21", account_id))
    fixed = stack.invoke(API, _retrieve_model_event("gpt-image-1.5", account_id))

    # Then each answers its own rules: gpt-image-2 any size within its limits and seven upstreams; gpt-image-1.5
    # three sizes, with OpenAI's per-size prices
    assert by_alias["statusCode"] == 200 and fixed["statusCode"] == 200
    model, older = json_body(by_alias), json_body(fixed)
    assert model["id"] == "gpt-image-2" and model["aliases"] == ["gpt-image-2-2026-04-21"]
    assert model["parameters"]["properties"]["image"]["maxItems"] == 16
    assert "pattern" in model["parameters"]["properties"]["size"]
    assert set(model["upstreams"]) == {"openai", "azure_openai", "aiml", "modelslab", "oxen", "runflow", "fal"}
    assert older["parameters"]["properties"]["size"]["enum"] == ["auto", "1024x1024", "1536x1024", "1024x1536"]
    assert older["pricing"]["per_size_usd"]["1024x1536"]["high"] == 0.2


def test_an_unknown_model_is_openais_404(stack: Stack, account_id: str) -> None:
    response = stack.invoke(API, _retrieve_model_event("dall-e-9", account_id))
    assert_openai_error(response, 404, "model_not_found", "model")


def test_health_needs_no_account(stack: Stack) -> None:
    # Given the recorded health check (no authorizer on this route)
    response = stack.invoke(API, load_event("health.json"))

    # Then it is 200 ok
    assert response["statusCode"] == 200 and json_body(response) == {"status": "ok"}


def _route_event(method: str, path: str) -> dict[str, Any]:
    event = load_event("health.json")
    concrete = path.replace("{job_id}", "job_" + "A" * 24)
    event.update(routeKey=f"{method} {path}", rawPath=concrete)
    event["requestContext"].update(routeKey=f"{method} {path}")
    event["requestContext"]["http"].update(method=method, path=concrete)
    return event


def test_openapi_document_lists_every_route_in_the_template(stack: Stack) -> None:
    # Given the HTTP routes template.yaml declares for the public API: not the console's prefix (issue 21), whose routes
    # are its front end's (docs/api.md "The console's API"; the public groups it mounts are listed at their /v1 paths)
    declared = {(route.method.lower(), route.path) for route in stack.template.http_routes
                if route.function_id != "ConsoleFunction"}
    assert declared, "the template declares no HTTP routes"
    assert {route.route_key for route in stack.template.http_routes if route.function_id == "ConsoleFunction"} == {
        "ANY /console/api/{proxy+}"}

    # When /openapi.json is fetched (no account needed)
    response = stack.invoke(API, _route_event("GET", "/openapi.json"))

    # Then it is valid JSON listing each of them, with the bearer scheme on the guarded ones
    assert response["statusCode"] == 200
    document = json_body(response)
    listed = {(method, path) for path, operations in document["paths"].items() for method in operations}
    assert declared <= listed, f"missing from /openapi.json: {sorted(declared - listed)}"
    guarded = {(r.method.lower(), r.path) for r in stack.template.http_routes if r.authorizer}
    for method, path in declared:
        # An operation's own `security` overrides the document's; `[{}]` (or `[]`) means no key needed.
        security = document["paths"][path][method].get("security", document.get("security"))
        needs_key = bool(security) and {} not in security
        assert needs_key == ((method, path) in guarded), (method, path, security)


def test_every_template_route_is_served_by_its_function(stack: Stack) -> None:
    # Given each route in template.yaml and the function it points at
    for route in stack.template.http_routes:
        # When that function receives a request for the route
        response = stack.invoke(route.function_id, _route_event(route.method, route.path))

        # Then the function has a handler for it (any answer but the resolver's unknown-route 404)
        body = response.get("body") or ""
        assert '"code":"not_found"' not in body.replace(" ", ""), (route.method, route.path, body)


def test_docs_is_a_swagger_page(stack: Stack) -> None:
    # Given a browser opening /docs
    response = stack.invoke(API, _route_event("GET", "/docs"))

    # Then it gets HTML that loads the OpenAPI document
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"].startswith("text/html")
    body = base64.b64decode(response["body"]).decode() if response.get("isBase64Encoded") else response["body"]
    assert "<html" in body and "openapi.json" in body


def test_webhook_redeliveries_past_the_jobs_hourly_budget_are_429(stack: Stack, account_id: str) -> None:
    # Given the account's succeeded job whose job.succeeded event was queued
    job_id = new_job_id()
    JobRepository(stack.table, client("dynamodb")).create(JobRecord(
        job_id=job_id, account_id=account_id, kind="generation", status="succeeded", model="gpt-image-2",
        request={"prompt": "a lighthouse"}, created_at=1_800_000_000, completed_at=1_800_000_010,
        expires_at=4_000_000_000,
        webhook=JobWebhook(url="https://hooks.example.com/r", events=["job.succeeded"], emitted=["job.succeeded"])))
    stack.purge_queues()

    # When its owner asks for a redelivery six times (the default budget: 5 per job per hour)
    answers = [stack.invoke(API, job_event("redeliver_webhook.json", job_id, account_id=account_id))
               for _ in range(6)]

    # Then five are queued, the sixth is a 429 rate_limit_exceeded with Retry-After, counted on the job item
    assert [answer["statusCode"] for answer in answers] == [202] * 5 + [429]
    error = json_body(answers[-1])["error"]
    assert (error["code"], error["type"]) == ("rate_limit_exceeded", "rate_limit_error")
    assert 1 <= int(answers[-1]["headers"]["Retry-After"]) <= 3600
    assert stack.job_item(job_id)["redeliveries"] == 5
