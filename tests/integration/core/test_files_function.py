"""The file routes and edits naming files, through the api function on events/*.json, against moto resources from
template.yaml: POST /v1/uploads, GET /v1/files/{id}, GET /v1/files, DELETE /v1/files/{id}, and a JSON edit with
`file_id` images and mask run by the worker. The client's upload itself is a put_object here (the presigned POST
over HTTP is the local tier's and the e2e tier's: in-process moto intercepts boto3 only)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import pytest

from retouch.data.ledger import LedgerRepository
from retouch.data.objects import ObjectStore
from retouch.files.check import ready_key
from tests.builders import (
    http_event,
    image_bytes,
    json_event,
    mask_png,
    new_account_id,
    path_event,
    png,
    query_event,
)
from tests.integration.core.aws_stack import Stack, client, json_body

API = "ApiFunction"
DAY = 24 * 3600


def create_upload(stack: Stack, account_id: str, data: bytes | None, *, declared: int | None = None,
                  mime_type: str = "image/png") -> dict[str, Any]:
    """POST /v1/uploads, then (unless `data` is None) the bytes where the presigned POST puts them."""
    event = json_event("create_upload.json", {"filename": "in.png", "bytes": declared or len(data or b"x"),
                                              "mime_type": mime_type}, account_id=account_id)
    response = stack.invoke(API, event)
    assert response["statusCode"] == 201, response["body"]
    body = json_body(response)
    if data is not None:
        client("s3").put_object(Bucket=stack.bucket, Key=body["upload"]["fields"]["key"], Body=data,
                                ContentType=mime_type)
    return body


def get_file(stack: Stack, file_id: str, account_id: str) -> dict[str, Any]:
    return stack.invoke(API, path_event("get_file.json", "file_id", file_id, account_id=account_id))


def balance_and_entries(stack: Stack, account_id: str) -> tuple[int, int]:
    account, entries = LedgerRepository(stack.table, client("dynamodb")).account_with_ledger(account_id)
    assert account is not None
    return account.balance_micros, len(entries)


def edit_with(stack: Stack, account_id: str, images: list[str], mask: str | None = None,
              prompt: str = "put the hat on the person") -> dict[str, Any]:
    payload: dict[str, Any] = {"prompt": f"{prompt} #{uuid.uuid4().hex[:8]}", "size": "1024x1024",
                               "images": [{"file_id": f} for f in images]}
    if mask:
        payload["mask"] = {"file_id": mask}
    return stack.invoke(API, json_event("edit_json_files.json", payload, account_id=account_id))


def test_the_sample_upload_creates_a_pending_file_and_a_presigned_post(stack: Stack, account_id: str) -> None:
    # Given the recorded upload request (a 20 MB JPEG), sent by this test's account
    event = http_event("create_upload.json", account_id=account_id)

    # When the api function handles it
    response = stack.invoke(API, event)

    # Then it answers 201 with the file and a POST that S3 accepts for exactly 20 MB of image/jpeg, for minutes
    assert response["statusCode"] == 201, response["body"]
    body = json_body(response)
    assert body["object"] == "upload" and body["status"] == "pending" and body["bytes"] == 20 * 1024 * 1024
    assert response["headers"]["Location"] == f"/v1/files/{body['id']}"
    assert "x-ratelimit-remaining-requests" in response["headers"]
    assert body["expires_at"] - body["created_at"] == DAY  # FileExpiryHours' default
    assert 60 <= body["upload_expires_at"] - body["created_at"] <= 600
    fields = body["upload"]["fields"]
    assert body["upload"]["method"] == "POST" and stack.bucket in body["upload"]["url"]
    assert fields["key"] == f"uploads/{account_id}/{body['id']}" and fields["Content-Type"] == "image/jpeg"
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert ["content-length-range", 20 * 1024 * 1024, 20 * 1024 * 1024] in policy["conditions"]
    assert {"Content-Type": "image/jpeg"} in policy["conditions"]
    # and the file is in DynamoDB, pending, on the account's listing index, with its TTL
    item = client("dynamodb").get_item(TableName=stack.table, Key={"pk": {"S": f"FILE#{body['id']}"},
                                                                   "sk": {"S": "FILE"}})["Item"]
    assert item["status"]["S"] == "pending" and item["gsi1pk"]["S"] == f"ACCOUNT#{account_id}"
    assert int(item["expires_at"]["N"]) == body["expires_at"]


def test_an_uploaded_file_reads_as_ready_and_is_its_owners_alone(stack: Stack, account_id: str) -> None:
    # Given an upload whose bytes arrived
    file_id = create_upload(stack, account_id, image_bytes("webp", 320, 200), mime_type="image/webp")["id"]

    # When its owner and another account read it
    mine = get_file(stack, file_id, account_id)
    theirs = get_file(stack, file_id, stack.seed_account(new_account_id()))

    # Then the owner sees it ready by content; the other account gets the 404 an unknown id gets
    assert mine["statusCode"] == 200
    view = json_body(mine)
    assert (view["object"], view["status"], view["format"], view["width"], view["height"]) == (
        "file", "ready", "webp", 320, 200)
    assert theirs["statusCode"] == 404 and json_body(theirs)["error"]["code"] == "file_not_found"
    assert get_file(stack, "file_" + "N" * 24, account_id)["statusCode"] == 404


def test_files_are_listed_in_pages_and_a_foreign_cursor_is_400(stack: Stack, account_id: str) -> None:
    # Given three files of the caller, created a second apart, and a cursor of another account's listing
    ids = []
    for _ in range(3):
        ids.append(create_upload(stack, account_id, png())["id"])
        time.sleep(1.05)
    other = stack.seed_account(new_account_id())
    for _ in range(2):
        create_upload(stack, other, png())
    foreign = json_body(stack.invoke(API, query_event("list_files.json", {"limit": "1"}, account_id=other)))

    # When the caller lists two at a time, and then pages with the other account's cursor
    first = json_body(stack.invoke(API, query_event("list_files.json", {"limit": "2"}, account_id=account_id)))
    second = json_body(stack.invoke(API, query_event("list_files.json", {"limit": "2", "after": first["next_cursor"]},
                                                     account_id=account_id)))
    forged = stack.invoke(API, query_event("list_files.json", {"after": foreign["next_cursor"]},
                                           account_id=account_id))

    # Then the pages hold the caller's files newest first, read as ready; the foreign cursor is refused
    assert [f["id"] for f in first["data"] + second["data"]] == ids[::-1]
    assert first["has_more"] is True and {f["status"] for f in first["data"]} == {"ready"}
    assert forged["statusCode"] == 400 and json_body(forged)["error"]["param"] == "after"


def test_deleting_a_file_removes_its_record_and_object(stack: Stack, account_id: str) -> None:
    # Given an uploaded file
    file_id = create_upload(stack, account_id, png())["id"]

    # When another account tries to delete it, then its owner does
    other = stack.invoke(API, path_event("delete_file.json", "file_id", file_id,
                                         account_id=stack.seed_account(new_account_id())))
    deleted = stack.invoke(API, path_event("delete_file.json", "file_id", file_id, account_id=account_id))

    # Then the first is a 404 that changed nothing, the second deletes the record and the object
    assert other["statusCode"] == 404
    assert deleted["statusCode"] == 200 and json_body(deleted) == {"id": file_id, "object": "file", "deleted": True}
    assert stack.keys_under(f"uploads/{account_id}/") == [] == stack.keys_under(f"uploads/ready/{file_id}")
    assert get_file(stack, file_id, account_id)["statusCode"] == 404


def test_an_edit_naming_two_files_and_a_mask_file_runs_on_their_ready_copies(stack: Stack, account_id: str) -> None:
    # Given two uploaded photos and an uploaded mask matching the first
    photo = create_upload(stack, account_id, png(96, 64))["id"]
    hat = create_upload(stack, account_id, image_bytes("jpeg", 40, 40), mime_type="image/jpeg")["id"]
    mask = create_upload(stack, account_id, mask_png(96, 64))["id"]
    balance, _ = balance_and_entries(stack, account_id)

    # When an edit names them (never having read the files first)
    response = edit_with(stack, account_id, [photo, hat], mask)

    # Then it is accepted, the job's inputs are the files' immutable ready copies (their keys naming no account) and
    # its price is held
    assert response["statusCode"] == 202, response["body"]
    job_id = json_body(response)["id"]
    item = stack.job_item(job_id)
    assert [i["key"] for i in item["inputs"]] == [ready_key(photo), ready_key(hat)]
    assert item["mask"]["key"] == ready_key(mask)
    assert stack.keys_under(f"inputs/{account_id}/") == []
    assert balance_and_entries(stack, account_id)[0] < balance

    # And when the worker runs it, the provider gets both images and the mask, and the job succeeds
    prompt = item["request"]["prompt"]
    stack.run_worker_once()
    [call] = stack.provider.calls_for(prompt)
    assert call.image_count == 2 and call.has_mask
    assert stack.job_item(job_id)["status"] == "succeeded"


def test_an_upload_posted_again_after_ready_does_not_change_what_the_job_reads(stack: Stack,
                                                                                account_id: str) -> None:
    # Given a file read as ready, whose upload is then sent again with other bytes (its POST policy still valid)
    upload = create_upload(stack, account_id, png(96, 64))
    assert json_body(get_file(stack, upload["id"], account_id))["status"] == "ready"
    client("s3").put_object(Bucket=stack.bucket, Key=upload["upload"]["fields"]["key"], Body=b"not an image" * 9,
                            ContentType="image/png")

    # When it is read again and an edit names it, and the worker runs the job
    again = json_body(get_file(stack, upload["id"], account_id))
    response = edit_with(stack, account_id, [upload["id"]])
    assert response["statusCode"] == 202, response["body"]
    job_id = json_body(response)["id"]
    stack.run_worker_once()

    # Then the file is still ready and the job ran on the bytes that were checked, from their immutable copy
    assert again["status"] == "ready" and (again["width"], again["height"]) == (96, 64)
    assert stack.job_item(job_id)["status"] == "succeeded"
    assert stack.object(ready_key(upload["id"]))[0] == png(96, 64)


def test_the_ready_copy_is_taken_only_of_the_bytes_that_were_read(stack: Stack) -> None:
    # Given an object and the ETag it had when it was read, then changed
    store = ObjectStore(stack.bucket, client("s3"))
    key = f"uploads/acct_x/{uuid.uuid4().hex}"
    store.put(key, png(), "image/png")
    read = store.head(key)
    assert read is not None
    store.put(key, png(20, 20), "image/png")

    # When it is copied on the ETag read, and on the current one
    stale = store.copy_if_unchanged(key, f"{key}-stale", read.etag)
    current = store.head(key)
    assert current is not None
    fresh = store.copy_if_unchanged(key, f"{key}-fresh", current.etag)

    # Then S3 refuses the stale copy, and the fresh one has the current bytes
    assert stale is None and stack.keys_under(f"{key}-stale") == []
    assert fresh is not None and stack.object(f"{key}-fresh")[0] == png(20, 20)


@pytest.mark.parametrize("case", ["pending", "another-account", "not-an-image", "mask-wrong-size"])
def test_an_unusable_file_is_a_400_naming_it_and_nothing_is_charged(case: str, stack: Stack,
                                                                     account_id: str) -> None:
    # Given a good upload and one that cannot be used
    good = create_upload(stack, account_id, png(96, 64))["id"]
    owner = stack.seed_account(new_account_id()) if case == "another-account" else account_id
    data = {"pending": None, "not-an-image": b"%PDF-1.7 " + b"x" * 500}.get(case, png(96, 64))
    bad = create_upload(stack, owner, data, declared=600)["id"]
    before = balance_and_entries(stack, account_id)

    # When an edit names them
    if case == "mask-wrong-size":
        bad_mask = create_upload(stack, account_id, mask_png(64, 64))["id"]
        response, param = edit_with(stack, account_id, [good], bad_mask), "mask.file_id"
    else:
        response, param = edit_with(stack, account_id, [good, bad]), "images[1].file_id"

    # Then it is a 400 naming the param; no job, hold, ledger entry or message exists
    assert response["statusCode"] == 400, response["body"]
    assert json_body(response)["error"]["param"] == param
    assert stack.jobs_of(account_id) == [] and stack.message_counts(stack.jobs_queue) == (0, 0)
    assert balance_and_entries(stack, account_id) == before
