"""Large inputs straight to S3 through the local stack: create an upload, POST the bytes to the presigned URL (the
local moto endpoint, which refuses what S3 refuses), edit with the file ids, get the result; refused files cost
nothing. Plain HTTP (httpx) and the official openai SDK."""

from __future__ import annotations

import io
import os
import time

import httpx
import openai
import pytest
from PIL import Image

from retouch.admin.accounts import create_account, issue_key
from retouch.data.accounts import AccountRepository
from tests.e2e.conftest import png_bytes
from tests.e2e.test_core import poll, unique

pytestmark = pytest.mark.e2e

MB = 1024 * 1024


def noisy(fmt: str, size: tuple[int, int], **save: object) -> bytes:
    """A photo-sized image of noise: it does not compress, so it is as large as a real photo of that size."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(buffer, format=fmt, **save)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def photos() -> dict[str, bytes]:
    photo = noisy("JPEG", (3500, 2625), quality=95, subsampling=0)  # ~21 MB, 9.2 MP
    second = noisy("PNG", (1740, 1740), compress_level=1)  # ~9 MB
    mask = png_bytes((3500, 2625), (0, 0, 0, 0), mode="RGBA")
    assert len(photo) >= 20 * MB and 8.5 * MB <= len(second) < 10 * MB
    return {"photo": photo, "second": second, "mask": mask}


def upload(http: httpx.Client, data: bytes, mime_type: str, *, declared: int | None = None) -> tuple[str, float]:
    """Steps 1 and 2: create the upload, then POST the bytes straight to S3; the file id and the POST's seconds."""
    created = http.post("/v1/uploads", json={"filename": "in", "bytes": declared or len(data),
                                             "mime_type": mime_type})
    assert created.status_code == 201, created.text
    target = created.json()["upload"]
    started = time.monotonic()
    sent = httpx.post(target["url"], data=target["fields"], files={"file": ("in", data, mime_type)}, timeout=120)
    elapsed = time.monotonic() - started
    assert sent.status_code == 204, sent.text
    return created.json()["id"], elapsed


def test_a_20_mb_and_a_9_mb_photo_with_a_mask_go_straight_to_s3_and_are_edited(stack, http, photos,
                                                                                 record_property):
    # Given a 20 MB JPEG, a 9 MB PNG and a mask, each uploaded through its presigned POST
    photo, seconds = upload(http, photos["photo"], "image/jpeg")
    second, _ = upload(http, photos["second"], "image/png")
    mask, _ = upload(http, photos["mask"], "image/png")
    record_property("upload_20mb_seconds", round(seconds, 2))
    print(f"\n20 MB upload ({len(photos['photo']) / MB:.1f} MiB) through the local stack: {seconds:.2f} s")

    # Then each reads as ready, by content
    view = http.get(f"/v1/files/{photo}").json()
    assert (view["status"], view["format"], view["width"], view["height"], view["bytes"]) == (
        "ready", "jpeg", 3500, 2625, len(photos["photo"]))

    # When an edit names the two photos and the mask (plain HTTP, JSON)
    response = http.post("/v1/images/edits", json={
        "model": "gpt-image-2", "prompt": unique("put the hat on the person"), "size": "1536x1024",
        "images": [{"file_id": photo}, {"file_id": second}], "mask": {"file_id": mask}})

    # Then the job is accepted and ends with the edited image
    assert response.status_code == 202, response.text
    done = poll(http, response.json()["id"])
    assert done["status"] == "succeeded", done
    result = Image.open(io.BytesIO(httpx.get(done["data"][0]["url"], timeout=30).content))
    assert result.size == (1536, 1024)


def test_the_openai_sdk_creates_the_upload_reads_the_file_and_edits_with_it(stack):
    # Given the official SDK pointed at the local stack
    client = openai.OpenAI(base_url=f"{stack.base_url}/v1", api_key=stack.api_key, max_retries=0, timeout=90,
                           default_headers={"Prefer": "wait=30"})
    image = png_bytes((96, 64))

    # When it creates the upload (OpenAI's own call), sends the bytes to S3, and reads the file back
    created = client.uploads.create(bytes=len(image), filename="photo.png", mime_type="image/png", purpose="vision")
    target = created.model_extra["upload"]
    assert httpx.post(target["url"], data=target["fields"], files={"file": ("photo.png", image)}).status_code == 204
    file = client.files.retrieve(created.id)

    # and edits with it (images.edit sends multipart only, so the JSON body goes through the SDK's post)
    result = client.post("/images/edits", cast_to=openai.types.ImagesResponse, body={
        "model": "gpt-image-2", "prompt": unique("dusk"), "size": "1024x1024", "images": [{"file_id": created.id}]})

    # Then the SDK parsed each answer: a ready file and a finished ImagesResponse
    assert created.id.startswith("file_") and created.status == "pending" and file.status == "ready"
    # (no response_format: OpenAI's default for GPT image models, b64_json, since the job ended within the request)
    assert len(result.data) == 1 and result.data[0].b64_json


@pytest.mark.local_only
def test_refused_files_are_400s_naming_the_param_and_charge_nothing(stack, http, aws):
    # Given a good file; a file of another account; a file never uploaded; bytes that are no image
    good, _ = upload(http, png_bytes((96, 64)), "image/png")
    accounts = AccountRepository(stack.resources.ref("Table"), client=aws("dynamodb"))
    other = httpx.Client(base_url=stack.base_url, timeout=30, headers={
        "Authorization": f"Bearer {issue_key(accounts, create_account(accounts, 'other').account_id).raw_key}"})
    foreign, _ = upload(other, png_bytes((96, 64)), "image/png")
    pending = http.post("/v1/uploads", json={"filename": "never", "bytes": 1000, "mime_type": "image/png"}).json()["id"]
    garbage, _ = upload(http, b"this is not an image, whatever its name says" * 20, "image/png")
    before = http.get("/v1/account").json()

    # When edits name each of them as their third image
    refusals = {}
    for name, file_id in (("foreign", foreign), ("pending", pending), ("garbage", garbage)):
        response = http.post("/v1/images/edits", json={"prompt": unique("refused"), "images": [
            {"file_id": good}, {"file_id": good}, {"file_id": file_id}]})
        refusals[name] = (response.status_code, response.json()["error"]["param"], response.json()["error"]["code"])

    # Then each is a 400 naming images[2].file_id, and the account was charged nothing and holds nothing
    assert refusals == {"foreign": (400, "images[2].file_id", "file_not_found"),
                        "pending": (400, "images[2].file_id", "file_not_ready"),
                        "garbage": (400, "images[2].file_id", "invalid_image_format")}
    after = http.get("/v1/account").json()
    assert (after["balance_micros"], after["in_flight"]) == (before["balance_micros"], before["in_flight"])
    # and the other account's file is a 404 to this one, as its jobs are
    assert http.get(f"/v1/files/{foreign}").status_code == 404
    other.close()


def test_the_local_endpoint_refuses_an_upload_of_another_size_as_s3_does(stack, http):
    # Given an upload declared as 1,000 bytes
    target = http.post("/v1/uploads", json={"filename": "a.png", "bytes": 1000, "mime_type": "image/png"}).json()

    # When 1,001 bytes are posted to its presigned URL
    sent = httpx.post(target["upload"]["url"], data=target["upload"]["fields"], files={"file": ("a.png", b"x" * 1001)})

    # Then the emulated S3 answers S3's EntityTooLarge, and the file stays pending
    assert sent.status_code == 400 and "<Code>EntityTooLarge</Code>" in sent.text
    assert http.get(f"/v1/files/{target['id']}").json()["status"] == "pending"
