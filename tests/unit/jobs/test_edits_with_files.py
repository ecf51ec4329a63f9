"""JSON edits naming uploaded files (`{"file_id": ...}`): checked at submit by content, before anything is
written; the job names the upload's key as its input. Parsing (web/request_parsing) + submit (jobs/submit) on fakes.
"""

from __future__ import annotations

from typing import Any

import pytest

from retouch.errors import RetouchError
from retouch.files.check import ready_key
from retouch.files.uploads import FileDeps, create_upload
from retouch.jobs.submit import SubmitDeps, submit_edit
from retouch.models.common import now_epoch
from retouch.models.records import JobRecord
from retouch.models.requests import UploadRequest
from retouch.web.request_parsing import parse_edit
from tests.builders import (
    admission_for,
    data_url,
    edit_payload,
    image_bytes,
    json_event,
    mask_png,
    new_account_id,
    noisy,
    png,
)
from tests.fakes import FakeFileRepository, FakeJobQueue, FakeJobRepository, FakeObjectStore

MAX_BODY = 64 * 1024 * 1024


@pytest.fixture
def account_id() -> str:
    return new_account_id()


@pytest.fixture
def uploads(files: FakeFileRepository, store: FakeObjectStore) -> FileDeps:
    return FileDeps(files=files, store=store, expiry_seconds=3600, upload_url_seconds=300)


def given_file(uploads: FileDeps, account_id: str, data: bytes | None, *, size: int = 100) -> str:
    """An upload of `account_id`; its bytes in S3 unless `data` is None (still pending)."""
    created = create_upload(account_id, UploadRequest(filename="f", bytes=len(data) if data else size,
                                                      mime_type="image/png"), uploads)
    if data is not None:
        uploads.store.put(created.upload.fields["key"], data, "image/png")
    return created.id


def edit(deps: SubmitDeps, account_id: str, **payload: Any) -> JobRecord:
    event = json_event("edit_json_files.json", edit_payload(**payload), account_id=account_id)
    return submit_edit(admission_for(deps.billing.ledger, account_id), parse_edit(event, MAX_BODY), deps)


def refused(deps: SubmitDeps, account_id: str, **payload: Any) -> RetouchError:
    with pytest.raises(RetouchError) as caught:
        edit(deps, account_id, **payload)
    return caught.value


def test_an_edit_with_file_ids_runs_on_the_files_ready_copies(
        submit_deps: SubmitDeps, uploads: FileDeps, jobs: FakeJobRepository, store: FakeObjectStore,
        queue: FakeJobQueue, account_id: str) -> None:
    # Given two uploaded images and an uploaded mask matching the first
    photo, second, mask = (given_file(uploads, account_id, data) for data in (png(96, 64), image_bytes("jpeg", 40, 30),
                                                                              mask_png(96, 64)))
    stored_before = dict(store.objects)

    # When an edit names them, with a data: URL image as well
    job = edit(submit_deps, account_id, images=[{"file_id": photo}, {"file_id": second},
                                                {"image_url": data_url(png(20, 20))}], mask={"file_id": mask})

    # Then the job is queued with the files' immutable ready copies as inputs (made when each was read, no upload
    # policy names them), the data: URL stored as usual
    assert job.status == "queued" and queue.sent == [job.job_id]
    assert [i.file_id for i in job.inputs[:2]] == [photo, second]
    assert [i.key for i in job.inputs[:2]] == [ready_key(photo), ready_key(second)]
    assert (job.inputs[1].content_type, job.inputs[1].width, job.inputs[1].height) == ("image/jpeg", 40, 30)
    assert job.mask is not None and (job.mask.key, job.mask.file_id) == (ready_key(mask), mask)
    assert set(store.objects) - set(stored_before) == {f"inputs/{account_id}/{job.job_id}/image_2.png",
                                                        *(ready_key(f) for f in (photo, second, mask))}
    # and the files show as read (ready) from then on
    assert {uploads.files.get(f).status for f in (photo, second, mask)} == {"ready"}


def test_a_large_file_is_checked_at_submit_from_its_header_only(submit_deps: SubmitDeps, uploads: FileDeps,
                                                                store: FakeObjectStore, account_id: str) -> None:
    # Given a large photo-like upload never read before
    file_id = given_file(uploads, account_id, noisy("JPEG", (900, 700)))

    # When an edit names it
    job = edit(submit_deps, account_id, images=[{"file_id": file_id}])

    # Then it was accepted after one ranged read of its header, never a whole read
    assert (job.inputs[0].width, job.inputs[0].height) == (900, 700)
    assert len(store.prefix_reads) == 1 and store.whole_reads == []


@pytest.mark.parametrize(("case", "code"), [
    ("pending", "file_not_ready"),
    ("another-account", "file_not_found"),
    ("unknown", "file_not_found"),
    ("expired", "file_expired"),
    ("not-an-image", "invalid_image_format"),
    ("truncated-png", "invalid_image"),
    ("too-many-pixels", "image_too_large"),
])
def test_an_unusable_file_is_a_400_naming_its_param_and_nothing_is_written(
        case: str, code: str, submit_deps: SubmitDeps, uploads: FileDeps, jobs: FakeJobRepository,
        store: FakeObjectStore, queue: FakeJobQueue, account_id: str) -> None:
    # Given two good files and, third, one that cannot be used
    good = [given_file(uploads, account_id, png()) for _ in range(2)]
    data = {"not-an-image": b"GIF89a" + b"\0" * 100, "truncated-png": png()[:40],
            "too-many-pixels": _png_header(10_000, 6_000)}.get(case, png())
    bad = given_file(uploads, new_account_id() if case == "another-account" else account_id,
                     None if case == "pending" else data)
    if case == "unknown":
        bad = "file_" + "Q" * 24
    if case == "expired":
        uploads.files.items[bad]["expires_at"] = now_epoch() - 1
    objects_before = dict(store.objects)

    # When an edit names all three
    error = refused(submit_deps, account_id, images=[{"file_id": f} for f in (*good, bad)])

    # Then it is a 400 naming the third file's param, and no job, input or message exists
    assert (error.status_code, error.code, error.param) == (400, code, "images[2].file_id"), error.message
    # (but the ready copies of the files that were read)
    added = set(store.objects) - set(objects_before)
    assert jobs.items == {} and queue.sent == [] and all(key.startswith("uploads/ready/") for key in added)


@pytest.mark.parametrize(("mask", "reason"), [
    (lambda: mask_png(64, 64), "is 64x64 but the first image is 96x64"),
    (lambda: mask_png(96, 64, alpha=False), "alpha"),
    (lambda: image_bytes("jpeg", 96, 64), "PNG"),
])
def test_mask_rules_apply_to_a_mask_file(mask: Any, reason: str, submit_deps: SubmitDeps, uploads: FileDeps,
                                         jobs: FakeJobRepository, account_id: str) -> None:
    # Given an uploaded 96x64 photo and an uploaded mask breaking one mask rule
    photo, bad_mask = given_file(uploads, account_id, png(96, 64)), given_file(uploads, account_id, mask())

    # When an edit names them
    error = refused(submit_deps, account_id, images=[{"file_id": photo}], mask={"file_id": bad_mask})

    # Then it is a 400 invalid_mask naming mask.file_id
    assert (error.code, error.param) == ("invalid_mask", "mask.file_id") and reason in error.message
    assert jobs.items == {}


@pytest.mark.parametrize(("ref", "param"), [
    ({"file_id": "file_x", "image_url": "https://a.example/x.png"}, "image[0]"),
    ({}, "image[0]"),
    ({"file_id": "file_x", "detail": "high"}, "image[0]"),
])
def test_each_json_image_names_exactly_one_of_image_url_and_file_id(ref: dict[str, str], param: str,
                                                                    submit_deps: SubmitDeps,
                                                                    account_id: str) -> None:
    error = refused(submit_deps, account_id, images=[ref])
    assert (error.status_code, error.param) == (400, param)


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header declares `width`x`height` (60 MP here): the pixel cap is read from the header."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + \
        chunk(b"IEND", b"")
