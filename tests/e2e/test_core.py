"""The core path over real HTTP: the official openai SDK and plain HTTP against the local stack."""

from __future__ import annotations

import base64
import io
import json
import time
import uuid

import httpx
import openai
import pytest
from PIL import Image

from retouch.admin.accounts import create_account, issue_key
from retouch.data.accounts import AccountRepository
from tests.e2e.conftest import png_bytes

pytestmark = pytest.mark.e2e

TERMINAL = {"succeeded", "failed", "canceled"}


def sdk(stack, wait: int | None = 60) -> openai.OpenAI:
    headers = {"Prefer": f"wait={wait}"} if wait is not None else {}
    return openai.OpenAI(base_url=f"{stack.base_url}/v1", api_key=stack.api_key, default_headers=headers,
                         max_retries=0, timeout=90)


def unique(prompt: str) -> str:
    """Prompts key the stand-in provider's fault counters and call log: keep each test's own."""
    return f"{prompt} #{uuid.uuid4().hex[:8]}"


def poll(http: httpx.Client, job_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = http.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in TERMINAL:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not end within {timeout}s: {job}")


def provider_calls(stack, prompt: str) -> int:
    return sum(1 for call in stack.provider.calls if call.prompt == prompt)


def test_edit_with_two_images_and_a_mask_through_the_openai_sdk(stack):
    # Given a photo, a second image and a mask with the photo's dimensions
    photo = png_bytes((96, 64))
    hat = png_bytes((32, 32), (10, 10, 200))
    mask = png_bytes((96, 64), (0, 0, 0, 0), mode="RGBA")
    # When the SDK submits an edit and waits for it
    result = sdk(stack).images.edit(
        model="gpt-image-2",
        image=[("photo.png", photo, "image/png"), ("hat.png", hat, "image/png")],
        mask=("mask.png", mask, "image/png"),
        prompt=unique("put the hat on the person"),
        size="1024x1536",
    )
    # Then it is a valid ImagesResponse carrying, as OpenAI's does by default, a real 1024x1536 PNG as base64
    assert len(result.data) == 1 and result.data[0].url is None
    image = Image.open(io.BytesIO(base64.b64decode(result.data[0].b64_json)))
    assert (image.format, image.size) == ("PNG", (1024, 1536))
    assert result.size == "1024x1536" and result.usage is not None


def test_generation_through_the_openai_sdk_with_url_response_format(stack):
    result = sdk(stack).images.generate(model="gpt-image-2", prompt=unique("a lighthouse at dawn"),
                                        size="1536x1024", quality="low", n=2, response_format="url")
    assert len(result.data) == 2
    sizes = {Image.open(io.BytesIO(httpx.get(d.url, timeout=30).content)).size for d in result.data}
    assert sizes == {(1536, 1024)}


def test_b64_json_response_format(stack):
    result = sdk(stack).images.generate(model="gpt-image-2", prompt=unique("a red square"),
                                        response_format="b64_json", output_format="webp", size="1024x1024")
    image = Image.open(io.BytesIO(base64.b64decode(result.data[0].b64_json)))
    assert (image.format, image.size) == ("WEBP", (1024, 1024))
    assert result.data[0].url is None


def test_async_path_answers_202_with_location_then_polls_to_success(stack, http):
    # When a generation is submitted without Prefer: wait
    response = http.post("/v1/images/generations", json={"prompt": unique("async"), "size": "1024x1024"})
    # Then it is accepted at once with the job and where to find it
    assert response.status_code == 202
    job = response.json()
    assert job["status"] in {"queued", "running"} and job["id"].startswith("job_")
    assert response.headers["location"] == f"/v1/jobs/{job['id']}"
    # And polling the Location ends in success with dimensions and content type
    done = poll(http, job["id"])
    assert done["status"] == "succeeded"
    assert done["data"][0]["width"] == 1024 and done["data"][0]["content_type"] == "image/png"
    assert done["started_at"] and done["completed_at"] and done["usage"]


def test_multipart_edit_with_curl_style_fields_and_metadata(stack, http):
    files = [("image[]", ("photo.jpg", png_bytes((64, 64)), "image/jpeg"))]
    data = {"prompt": unique("curl edit"), "metadata[order]": "A-1", "output_format": "jpeg",
            "output_compression": "80"}
    response = http.post("/v1/images/edits", files=files, data=data, headers={"Prefer": "wait=30"})
    assert response.status_code == 200, response.text
    job = response.json()
    assert job["status"] == "succeeded" and job["metadata"] == {"order": "A-1"}
    assert job["data"][0]["content_type"] == "image/jpeg"


def test_validation_errors_come_back_as_openai_errors_through_the_sdk(stack):
    client = sdk(stack)
    with pytest.raises(openai.BadRequestError) as bad_size:
        client.images.generate(model="gpt-image-2", prompt="x", size="1000x1000")
    assert bad_size.value.body["param"] == "size" and bad_size.value.body["code"] == "invalid_size"
    with pytest.raises(openai.BadRequestError) as unsupported:
        client.images.edit(model="gpt-image-2", image=("a.png", png_bytes((64, 64)), "image/png"), prompt="x",
                           input_fidelity="high")
    assert unsupported.value.body["param"] == "input_fidelity"
    with pytest.raises(openai.BadRequestError) as unknown_model:
        client.images.generate(model="dall-e-9", prompt="x")
    assert unknown_model.value.body["code"] == "model_not_found"


def test_unknown_key_is_401_in_openai_shape_and_missing_key_is_401(stack):
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{stack.base_url}/v1", api_key="rt_live_nope", max_retries=0).models.list()
    assert httpx.get(f"{stack.base_url}/v1/models").status_code == 401
    assert httpx.get(f"{stack.base_url}/health").json() == {"status": "ok"}


@pytest.mark.local_only
def test_another_accounts_job_is_404(stack, http, aws):
    # Given a job of the seeded account and a second account with its own key
    job = http.post("/v1/images/generations", json={"prompt": unique("private")}).json()
    accounts = AccountRepository(stack.resources.ref("Table"), client=aws("dynamodb"))
    other = create_account(accounts, "other")
    other_key = issue_key(accounts, other.account_id).raw_key
    # When the other account asks for it, Then it does not exist for them
    response = httpx.get(f"{stack.base_url}/v1/jobs/{job['id']}", headers={"Authorization": f"Bearer {other_key}"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "job_not_found"


@pytest.mark.local_only
def test_permanent_provider_refusal_ends_failed_with_its_code_without_retry(stack, http):
    prompt = unique("[fault:safety] something")
    answer = http.post("/v1/images/generations", json={"prompt": prompt}, headers={"Prefer": "wait=30"})
    # The waited call is refused as OpenAI refuses it (400 with the code), naming its job, which ended failed
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "moderation_blocked" and answer.headers["x-should-retry"] == "false"
    job = http.get(answer.headers["location"]).json()
    assert job["status"] == "failed"
    assert job["error"]["code"] == "moderation_blocked"
    assert provider_calls(stack, prompt) == 1


@pytest.mark.local_only
def test_the_openai_sdk_raises_a_refusal_on_the_synchronous_entry(stack):
    # Given the official SDK on the synchronous entry, as the README's example uses it
    client = openai.OpenAI(base_url=f"{stack.function_urls['SyncFunction']}/v1", api_key=stack.api_key,
                           max_retries=2, timeout=60)
    prompt = unique("[fault:safety] a refused edit")
    # When the call's job is refused, then the SDK raises OpenAI's error (not an empty `data`), and sends it once
    with pytest.raises(openai.BadRequestError) as refused:
        client.images.generate(model="gpt-image-2", prompt=prompt)
    assert refused.value.code == "moderation_blocked"
    assert provider_calls(stack, prompt) == 1


@pytest.mark.local_only
def test_provider_500_then_success_ends_succeeded_once(stack, http):
    prompt = unique("[fault:500x1] flaky")
    job = http.post("/v1/images/generations", json={"prompt": prompt}).json()
    done = poll(http, job["id"])
    assert done["status"] == "succeeded" and len(done["data"]) == 1
    assert provider_calls(stack, prompt) == 2


@pytest.mark.local_only
def test_duplicated_queue_message_yields_one_result(stack, http, aws):
    prompt = unique("duplicate me")
    job = http.post("/v1/images/generations", json={"prompt": prompt}).json()
    aws("sqs").send_message(QueueUrl=stack.resources.ref("JobsQueue"), MessageBody=json.dumps({"job_id": job["id"]}))
    done = poll(http, job["id"])
    time.sleep(2)  # give the duplicate time to be consumed
    assert done["status"] == "succeeded"
    assert provider_calls(stack, prompt) == 1
    assert http.get(f"/v1/jobs/{job['id']}").json()["completed_at"] == done["completed_at"]


@pytest.mark.local_only
def test_retries_exhausted_end_failed_provider_unavailable(stack, http):
    prompt = unique("[fault:500] always down")
    job = http.post("/v1/images/generations", json={"prompt": prompt}).json()
    done = poll(http, job["id"], timeout=90)
    assert done["status"] == "failed"
    assert done["error"]["code"] == "provider_unavailable"
    assert provider_calls(stack, prompt) == 4  # RETOUCH_MAX_ATTEMPTS in template.yaml


def test_image_urls_are_fetched_by_the_worker_and_private_addresses_refused(stack, http):
    # A URL on a non-allowlisted private address fails the job with a clear code (nothing is fetched)
    blocked = http.post("/v1/images/edits", headers={"Prefer": "wait=30"}, json={
        "prompt": unique("blocked"), "images": [{"image_url": "http://10.0.0.1/photo.png"}]})
    assert blocked.status_code == 400 and blocked.json()["error"]["code"] == "image_url_forbidden", blocked.text
    job = http.get(blocked.headers["location"]).json()
    assert job["status"] == "failed" and job["error"]["code"] == "image_url_forbidden"


def test_models_lists_gpt_image_2_with_limits(stack, http):
    models = http.get("/v1/models").json()
    spec = next(m for m in models["data"] if m["id"] == "gpt-image-2")
    assert spec["limits"]["max_images"] == 16 and spec["limits"]["max_edge"] == 3840


def test_a_model_is_retrieved_with_its_parameter_schema_and_unknown_ones_are_404(stack, http):
    model = http.get("/v1/models/gpt-image-1-mini").json()
    assert model["parameters"]["properties"]["size"]["enum"] == ["auto", "1024x1024", "1536x1024", "1024x1536"]
    assert model["pricing"]["per_image_usd"]["high"] == 0.036
    missing = http.get("/v1/models/no-such-model")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"


def test_openapi_document_and_docs_are_served(stack):
    document = httpx.get(f"{stack.base_url}/openapi.json").json()
    assert "/v1/images/edits" in document["paths"] and "/v1/jobs/{job_id}" in document["paths"]
    assert "swagger" in httpx.get(f"{stack.base_url}/docs").text.lower()
