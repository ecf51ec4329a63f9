"""End users on the local stack, over real HTTP: the openai SDK's `user=` reaches the job; `X-End-User` and the
`?user=` listings; a device token minted by the backend and used by a phone (upload, submit, poll, own jobs only,
spend cap, revocation); an end user's limits over the API; and the erasure of an end user with 1,000 jobs."""

from __future__ import annotations

import base64
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from openai import OpenAI

from tests.e2e.conftest import png_bytes
from tests.e2e.operator import admin

pytestmark = [pytest.mark.e2e, pytest.mark.local_only]


def _user() -> str:
    return f"u_{uuid.uuid4().hex[:12]}"


def _wait_ended(client: httpx.Client, job_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed", "canceled"):
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not end")


def test_the_openai_sdks_user_reaches_the_job_and_the_per_user_listing(stack, http: httpx.Client) -> None:
    # Given the official SDK pointed at the sync entry, and an end user id
    user = _user()
    sdk = OpenAI(base_url=f"{stack.function_urls['SyncFunction']}/v1", api_key=stack.api_key)

    # When the app edits an image for that end user, as OpenAI documents `user`
    result = sdk.images.edit(model="gpt-image-2", image=("photo.png", png_bytes((64, 64)), "image/png"),
                             prompt="make it blue", user=user)
    assert base64.b64decode(result.data[0].b64_json or "")

    # Then the job is recorded for that end user: GET /v1/jobs?user= finds exactly it, and its view names the user
    listed = http.get("/v1/jobs", params={"user": user}).json()["data"]
    assert [job["user"] for job in listed] == [user]
    assert http.get(f"/v1/jobs/{listed[0]['id']}").json()["user"] == user
    # and the end user's usage counts the image it was charged for
    end_user = http.get(f"/v1/end_users/{user}").json()
    assert end_user["usage"]["images_today"] == 1 and end_user["usage"]["jobs_total"] == 1

    # and usage by end user (the API's and the admin CLI's) has its row: one job, one image, what it was charged
    by_user = http.get("/v1/usage", params={"group_by": "user"}).json()
    [row] = [row for row in by_user["data"] if row.get("user") == user]
    assert (row["jobs"], row["images"], row["cost_micros"]) == (1, 1, end_user["usage"]["spent_micros"])
    assert row["cost_micros"] > 0 and row.get("date") is None and row.get("model") is None
    by_day_and_user = http.get("/v1/usage", params={"group_by": "day,user"}).json()
    assert by_day_and_user["group_by"] == ["day", "user"]
    assert any(r.get("user") == user and r.get("date") for r in by_day_and_user["data"])
    report = admin(stack, "usage", stack.account_id, "--group-by", "user")
    assert [(r["jobs"], r["images"]) for r in report["data"] if r.get("user") == user] == [(1, 1)]


def test_x_end_user_names_the_end_user_and_a_limit_over_the_api_refuses_by_name(http: httpx.Client) -> None:
    user = _user()
    # Given an end user allowed one image a day, set through the API
    put = http.put(f"/v1/end_users/{user}", json={"limits": {"images_per_day": 1}})
    assert put.status_code == 200 and put.json()["limits"]["images_per_day"] == 1
    body = {"model": "gpt-image-2", "prompt": "a lighthouse", "quality": "low", "size": "1024x1024"}

    # When two generations are submitted for it through the X-End-User header
    first = http.post("/v1/images/generations", json=body, headers={"X-End-User": user})
    second = http.post("/v1/images/generations", json=body, headers={"X-End-User": user})

    # Then the first is accepted for it, and the second is a 429 naming the limit, with Retry-After
    assert first.status_code == 202 and first.json()["user"] == user
    assert second.status_code == 429
    assert second.json()["error"]["code"] == "end_user_limit_exceeded"
    assert second.json()["error"]["param"] == "images_per_day"
    assert 0 < int(second.headers["Retry-After"]) <= 86400
    # and another end user of the account is unaffected
    assert http.post("/v1/images/generations", json=body, headers={"X-End-User": _user()}).status_code == 202
    # and the listing by spend names the end users of the account
    listed = http.get("/v1/end_users", params={"limit": 100}).json()
    assert listed["order"] == "spent_desc" and user in {row["id"] for row in listed["data"]}


def test_a_device_token_uploads_submits_and_polls_only_its_own_end_users_jobs(stack, http: httpx.Client) -> None:
    # Given the backend mints a device token for its end user (the account key only), and another user's job
    user = _user()
    minted = http.post("/v1/client_tokens", json={
        "user": user, "scopes": ["uploads:create", "images:edit", "jobs:read", "jobs:cancel"],
        "spend_cap_usd": "0.50", "expires_in": 600})
    assert minted.status_code == 201, minted.text
    token = minted.json()["token"]
    others = http.post("/v1/images/generations", json={"prompt": "x", "quality": "low", "size": "1024x1024"},
                       headers={"X-End-User": _user()}).json()["id"]
    phone = httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60)

    # When the phone uploads its photo straight to S3, edits it, and polls the job
    image = png_bytes((64, 64))
    upload = phone.post("/v1/uploads", json={"filename": "me.png", "bytes": len(image), "mime_type": "image/png"})
    assert upload.status_code == 201, upload.text
    assert upload.json()["user"] == user
    target = upload.json()["upload"]
    assert httpx.post(target["url"], data=target["fields"], files={"file": ("me.png", image)}).status_code == 204
    edit = phone.post("/v1/images/edits", json={"prompt": "blue", "quality": "low", "size": "1024x1024",
                                                 "images": [{"file_id": upload.json()["id"]}]})
    assert edit.status_code == 202, edit.text
    job = _wait_ended(phone, edit.json()["id"])

    # Then the job is its end user's, and the phone sees only that end user's jobs
    assert job["status"] == "succeeded" and job["user"] == user
    assert [f["id"] for f in http.get("/v1/files", params={"user": user}).json()["data"]] == [upload.json()["id"]]
    # and the same token works as the openai SDK's key on the synchronous entry (which resolves it itself)
    sdk = OpenAI(base_url=f"{stack.function_urls['SyncFunction']}/v1", api_key=token)
    edited = sdk.images.edit(model="gpt-image-2", image=("me.png", image, "image/png"), prompt="green",
                             quality="low", size="1024x1024")
    assert base64.b64decode(edited.data[0].b64_json or "")
    assert len(phone.get("/v1/jobs").json()["data"]) == 2
    assert phone.get(f"/v1/jobs/{others}").status_code == 404
    assert phone.post(f"/v1/jobs/{others}/cancel").status_code == 404
    # and it reaches no account route, nor another end user
    for method, path in (("GET", "/v1/account"), ("GET", "/v1/usage"), ("POST", "/v1/client_tokens"),
                         ("GET", f"/v1/end_users/{user}"), ("GET", "/v1/files")):
        refused = phone.request(method, path)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "client_token_forbidden", path
    assert phone.get("/v1/jobs", params={"user": "someone_else"}).status_code == 403
    generation = phone.post("/v1/images/generations", json={"prompt": "x"})
    assert generation.status_code == 403  # no images:generate scope

    # When its submits would go over its spend cap ($0.50: a high-quality 1536x1024 edit holds more)
    over = phone.post("/v1/images/edits", json={"prompt": "x", "quality": "high", "size": "1536x1024", "n": 4,
                                                 "images": [{"file_id": upload.json()["id"]}]})
    # Then it is a 429 naming the cap
    assert over.status_code == 429 and over.json()["error"]["code"] == "client_token_spend_cap_exceeded"

    # When the backend revokes it, its next submit is refused at once (the hold checks the token)
    assert http.delete(f"/v1/client_tokens/{minted.json()['id']}").json()["revoked"] is True
    refused = phone.post("/v1/images/edits", json={"prompt": "x", "quality": "low", "size": "1024x1024",
                                                    "images": [{"file_id": upload.json()["id"]}]})
    assert refused.status_code == 401


def test_a_device_token_cannot_mint_and_a_bad_one_is_401(stack, http: httpx.Client) -> None:
    assert http.post("/v1/client_tokens", json={"user": "u", "scopes": ["jobs:read"], "spend_cap_usd": "1",
                                                "expires_in": 7200}).status_code == 400  # more than an hour
    forged = httpx.get(f"{stack.base_url}/v1/jobs", headers={"Authorization": "Bearer rt_dev_" + "a" * 60})
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "invalid_api_key"


def _seed_ended_jobs(stack, aws, account_id: str, user: str, count: int) -> list[str]:
    """`count` succeeded jobs of the end user, written as the worker leaves them (the data layer's own items), each
    with an input and an output object: quick to seed, real to erase."""
    from retouch.data.jobs import job_item
    from retouch.models.records import JobRecord, StoredInput, StoredOutput

    table, bucket = stack.resources.ref("Table"), stack.resources.ref("Bucket")
    dynamodb, s3 = aws("dynamodb"), aws("s3")
    now = int(time.time()) - 3600
    job_ids: list[str] = []
    items: list[dict[str, Any]] = []
    objects: list[str] = []
    for index in range(count):
        job_id = "job_" + uuid.uuid4().hex[:24]
        job_ids.append(job_id)
        input_key, output_key = f"inputs/{account_id}/{job_id}/image_0.png", f"outputs/{job_id}/c-0.png"
        record = JobRecord(job_id=job_id, account_id=account_id, kind="edit", status="succeeded", model="gpt-image-2",
                           request={"prompt": "secret", "n": 1, "user": user}, created_at=now + index,
                           completed_at=now + index, expires_at=now + 30 * 86400, end_user=user,
                           inputs=[StoredInput(key=input_key, content_type="image/png", bytes=3)],
                           outputs=[StoredOutput(key=output_key, content_type="image/png", bytes=3, width=1,
                                                 height=1)],
                           reserved_micros=6000, usage={"images": 1, "cost_micros": 6000}, hold_on_account=True)
        items.append({"PutRequest": {"Item": job_item(record)}})
        objects += [input_key, output_key]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: s3.put_object(Bucket=bucket, Key=key, Body=b"img"), objects))
    for start in range(0, len(items), 25):
        dynamodb.batch_write_item(RequestItems={table: items[start:start + 25]})
    return job_ids


@pytest.mark.timeout(420)  # seeding 2,000 objects and erasing them on a shared machine
def test_erasing_an_end_user_with_a_thousand_jobs_finishes_through_the_api(stack, http: httpx.Client, aws) -> None:
    # Given an end user with 1,000 ended jobs (an input and an output each) and another end user's job
    user, keep = _user(), _user()
    seeding = time.monotonic()
    job_ids = _seed_ended_jobs(stack, aws, stack.account_id, user, 1000)
    print(f"\nseeded 1,000 jobs and 2,000 objects in {time.monotonic() - seeding:.1f} s")
    kept = _seed_ended_jobs(stack, aws, stack.account_id, keep, 1)
    bucket = stack.resources.ref("Bucket")
    image = png_bytes((32, 32))
    upload = http.post("/v1/uploads", json={"filename": "me.png", "bytes": len(image), "mime_type": "image/png"},
                       headers={"X-End-User": user}).json()
    assert httpx.post(upload["upload"]["url"], data=upload["upload"]["fields"],
                      files={"file": ("me.png", image)}).status_code == 204

    # When the backend asks for the end user's erasure, and polls its status
    started = time.monotonic()
    erase = http.delete(f"/v1/end_users/{user}")
    assert erase.status_code == 202, erase.text
    status_url = erase.headers["Location"]
    deadline = started + 300
    erasure = erase.json()
    while erasure["status"] != "completed" and time.monotonic() < deadline:
        time.sleep(0.5)
        erasure = http.get(status_url).json()
    elapsed = time.monotonic() - started
    print(f"\nerasure of {len(job_ids)} jobs ({2 * len(job_ids)} objects) and a file: {elapsed:.1f} s "
          f"(batches of 250; local stack, shared machine)")

    # Then it completed, every job erased and every object gone
    assert erasure["status"] == "completed", erasure
    assert (erasure["jobs_erased"], erasure["files_erased"], erasure["objects_deleted"]) == (1000, 1, 2001)
    assert http.get("/v1/files", params={"user": user}).json()["data"] == []
    uploads = aws("s3").list_objects_v2(Bucket=bucket, Prefix=f"uploads/{stack.account_id}/{upload['id']}")
    assert uploads["KeyCount"] == 0
    s3 = aws("s3")
    for job_id in job_ids[:: 50]:
        assert s3.list_objects_v2(Bucket=bucket, Prefix=f"outputs/{job_id}/").get("KeyCount", 0) == 0
    # the jobs are gone from every read, and their billing tombstones stay (with the end user, for usage)
    assert http.get("/v1/jobs", params={"user": user}).json()["data"] == []
    assert http.get(f"/v1/jobs/{job_ids[0]}").status_code == 404
    item = aws("dynamodb").get_item(TableName=stack.resources.ref("Table"),
                                    Key={"pk": {"S": f"JOB#{job_ids[0]}"}, "sk": {"S": "JOB"}})["Item"]
    assert "deleted_at" in item and "outputs" not in item and item["usage"]["M"]["cost_micros"]["N"] == "6000"
    assert item["request"]["M"] == {}
    # and the other end user's job is untouched
    assert http.get(f"/v1/jobs/{kept[0]}").json()["user"] == keep
