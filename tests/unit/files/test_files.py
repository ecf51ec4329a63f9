"""Uploaded files (retouch.files): creating an upload, reading a file by content, listing and deleting, on fakes."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from retouch.errors import FileNotFound, InvalidRequest
from retouch.files.check import ready_key
from retouch.files.uploads import FileDeps, create_upload, delete_file, get_file, list_files, upload_key
from retouch.images.inspect import HEADER_READS
from retouch.models.common import now_epoch
from retouch.models.requests import UploadRequest
from tests.builders import image_bytes, new_account_id, noisy, png
from tests.fakes import FakeFileRepository, FakeObjectStore

EXPIRY = 24 * 3600
UPLOAD_URL_SECONDS = 300


@pytest.fixture
def deps(files: FakeFileRepository, store: FakeObjectStore) -> FileDeps:
    return FileDeps(files=files, store=store, expiry_seconds=EXPIRY,
                    upload_url_seconds=UPLOAD_URL_SECONDS)


@pytest.fixture
def account_id() -> str:
    return new_account_id()


def upload(deps: FileDeps, account_id: str, data: bytes | None, mime_type: str = "image/png", *,
           size: int | None = None) -> str:
    """Create an upload and (unless `data` is None) put its bytes where the presigned POST would."""
    created = create_upload(account_id, UploadRequest(filename="a.png", bytes=size or len(data or b"x"),
                                                      mime_type=mime_type), deps)
    if data is not None:
        deps.store.put(created.upload.fields["key"], data, mime_type)
    return created.id


def test_an_upload_is_a_pending_file_with_a_presigned_post_for_exactly_its_size_and_type(
        deps: FileDeps, files: FakeFileRepository, account_id: str) -> None:
    # Given a client that will send a 20 MB JPEG
    request = UploadRequest(filename="photo.jpg", bytes=20 * 1024 * 1024, mime_type="image/jpeg")

    # When it creates the upload
    created = create_upload(account_id, request, deps)

    # Then it gets a file id, pending, expiring with the file expiry, and a POST bound to the size and type
    assert created.id.startswith("file_") and created.object == "upload" and created.status == "pending"
    assert created.expires_at - created.created_at == EXPIRY
    assert created.upload_expires_at - created.created_at == UPLOAD_URL_SECONDS
    assert created.upload.method == "POST"
    assert created.upload.fields["key"] == f"uploads/{account_id}/{created.id}"
    assert created.upload.fields["Content-Type"] == "image/jpeg"
    assert created.upload.fields["policy"] == f"size={20 * 1024 * 1024};expires_in={UPLOAD_URL_SECONDS}"
    # and the record holds what was declared, with the TTL on expires_at
    record = files.get(created.id)
    assert record is not None and (record.account_id, record.declared_bytes, record.mime_type) == (
        account_id, 20 * 1024 * 1024, "image/jpeg")
    assert record.expires_at == created.expires_at


def test_a_file_stays_pending_until_its_bytes_arrive(deps: FileDeps, account_id: str) -> None:
    # Given an upload whose bytes were never sent
    file_id = upload(deps, account_id, None, size=1000)

    # When it is read
    view = get_file(account_id, file_id, deps)

    # Then it is pending, with the declared size
    assert (view.status, view.bytes, view.width) == ("pending", 1000, None)


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_an_uploaded_image_becomes_ready_read_by_content(fmt: str, deps: FileDeps, account_id: str) -> None:
    # Given an uploaded image
    data = image_bytes(fmt, 120, 80)
    file_id = upload(deps, account_id, data, f"image/{fmt}")

    # When it is read
    view = get_file(account_id, file_id, deps)

    # Then it is ready with its format, dimensions and real size
    assert (view.status, view.format, view.width, view.height, view.bytes) == ("ready", fmt, 120, 80, len(data))
    assert view.error is None


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_a_large_file_is_judged_from_its_header_alone(fmt: str, deps: FileDeps, store: FakeObjectStore,
                                                      account_id: str) -> None:
    # Given a large photo-like upload (several times the first header read)
    data = noisy(fmt, (800, 600))
    assert len(data) > 4 * HEADER_READS[0]
    file_id = upload(deps, account_id, data)

    # When it is read
    view = get_file(account_id, file_id, deps)

    # Then it is ready, and only its first bytes were read (one ranged read, never the whole object)
    assert (view.status, view.width, view.height) == ("ready", 800, 600)
    assert [length for _, length in store.prefix_reads] == [HEADER_READS[0]]
    assert store.whole_reads == []


def test_a_header_behind_large_metadata_is_read_in_a_larger_step(deps: FileDeps, store: FakeObjectStore,
                                                                 account_id: str) -> None:
    # Given a JPEG whose frame header comes after 200 KB of EXIF-like metadata (several APP1 segments)
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (1, 2, 3)).save(buffer, format="JPEG")
    jpeg = buffer.getvalue()
    segment = b"\xff\xe1" + (65533).to_bytes(2, "big") + b"\0" * 65531
    data = jpeg[:2] + segment * 3 + jpeg[2:]
    file_id = upload(deps, account_id, data, "image/jpeg")

    # When it is read
    view = get_file(account_id, file_id, deps)

    # Then a second, larger ranged read found the header
    assert (view.status, view.width, view.height) == ("ready", 64, 48)
    assert [length for _, length in store.prefix_reads] == [HEADER_READS[0], min(HEADER_READS[1], len(data))]


@pytest.mark.parametrize(("data", "code"), [
    (b"GIF89a" + b"\0" * 200, "invalid_image_format"),
    (b"\x89PNG\r\n\x1a\n" + b"garbage" * 50, "invalid_image"),
    (b"%PDF-1.7 not an image", "invalid_image_format"),
])
def test_bytes_that_are_not_an_image_make_the_file_rejected(data: bytes, code: str, deps: FileDeps,
                                                            account_id: str) -> None:
    # Given an upload whose bytes are not a PNG, JPEG or WebP image (whatever its declared type)
    file_id = upload(deps, account_id, data)

    # When it is read
    view = get_file(account_id, file_id, deps)

    # Then it is rejected, saying why
    assert view.status == "rejected" and view.error is not None and view.error.code == code


def test_a_post_after_ready_changes_nothing_a_job_reads(deps: FileDeps, store: FakeObjectStore,
                                                        account_id: str) -> None:
    # Given a ready file whose presigned POST is then used again with other bytes of the same size
    file_id = upload(deps, account_id, png(96, 64))
    assert get_file(account_id, file_id, deps).status == "ready"
    key = upload_key(account_id, file_id)
    store.put(key, b"GIF89a" + b"\0" * (len(store.objects[key].data) - 6), "image/png")

    # When it is read again
    view = get_file(account_id, file_id, deps)

    # Then it is still the bytes that were checked: the file is their immutable copy, which no upload policy names
    record = deps.files.get(file_id)
    assert view.status == "ready" and record is not None and record.key == ready_key(file_id) != key
    assert store.objects[record.key].data == png(96, 64) and account_id not in record.key


def test_a_rejected_file_uploaded_again_is_read_again(deps: FileDeps, store: FakeObjectStore,
                                                      account_id: str) -> None:
    # Given a rejected file whose presigned POST is used again with an image
    file_id = upload(deps, account_id, b"GIF89a" + b"\0" * 200)
    assert get_file(account_id, file_id, deps).status == "rejected"
    store.put(upload_key(account_id, file_id), png(96, 64), "image/png")

    # When it is read, then the new bytes decide
    assert get_file(account_id, file_id, deps).status == "ready"


def test_an_upload_changed_while_it_is_read_is_not_made_ready_on_other_bytes(
        deps: FileDeps, store: FakeObjectStore, account_id: str) -> None:
    # Given a file whose client re-POSTs other bytes between the read of its header and the ready copy
    file_id = upload(deps, account_id, png(96, 64))
    key = upload_key(account_id, file_id)
    copy = store.copy_if_unchanged

    def racing_copy(source: str, dest: str, etag: str) -> object:
        store.put(key, png(64, 64), "image/png")
        store.copy_if_unchanged = copy  # type: ignore[method-assign]
        return copy(source, dest, etag)

    store.copy_if_unchanged = racing_copy  # type: ignore[method-assign]

    # When it is read, then it is read again and made ready on the bytes it now has, which are what was checked
    view = get_file(account_id, file_id, deps)
    assert view.status == "ready" and (view.width, view.height) == (64, 64)
    assert store.objects[ready_key(file_id)].data == png(64, 64)


def test_a_ready_file_is_not_read_again_while_its_object_is_unchanged(deps: FileDeps, store: FakeObjectStore,
                                                                      account_id: str) -> None:
    # Given a file that was read once
    file_id = upload(deps, account_id, png())
    get_file(account_id, file_id, deps)
    reads = len(store.prefix_reads)

    # When it is read again
    view = get_file(account_id, file_id, deps)

    # Then its object's ETag sufficed
    assert view.status == "ready" and len(store.prefix_reads) == reads


@pytest.mark.parametrize("whose", ["another-account", "malformed", "missing", "expired"])
def test_a_file_that_is_not_the_callers_is_404(whose: str, deps: FileDeps, files: FakeFileRepository,
                                               store: FakeObjectStore, account_id: str) -> None:
    # Given a file of another account, a malformed id, an unknown id, or the caller's expired file
    owner = new_account_id() if whose == "another-account" else account_id
    file_id = upload(deps, owner, png())
    if whose == "malformed":
        file_id = "file_../../x"
    elif whose == "missing":
        file_id = "file_" + "Z" * 24
    elif whose == "expired":
        files.items[file_id]["expires_at"] = now_epoch() - 1

    # When the caller reads or deletes it
    with pytest.raises(FileNotFound) as read:
        get_file(account_id, file_id, deps)
    with pytest.raises(FileNotFound):
        delete_file(account_id, file_id, deps)

    # Then both are 404 file_not_found, and nothing was deleted
    assert (read.value.status_code, read.value.code) == (404, "file_not_found")
    assert len(store.objects) == 1 and len(files.items) == 1


def test_deleting_a_file_removes_its_record_and_its_bytes(deps: FileDeps, files: FakeFileRepository,
                                                          store: FakeObjectStore, account_id: str) -> None:
    # Given an uploaded file
    file_id = upload(deps, account_id, png())

    # When it is deleted
    deleted = delete_file(account_id, file_id, deps)

    # Then it is gone: record, object, and any later read
    assert deleted.model_dump() == {"id": file_id, "object": "file", "deleted": True}
    assert files.items == {} and store.objects == {}
    with pytest.raises(FileNotFound):
        get_file(account_id, file_id, deps)


def test_files_are_listed_newest_first_in_pages_of_the_callers_own(deps: FileDeps, files: FakeFileRepository,
                                                                   account_id: str) -> None:
    # Given three files of the caller (created a second apart) and one of another account
    ids = [upload(deps, account_id, png()) for _ in range(3)]
    for offset, file_id in enumerate(ids):
        files.items[file_id]["created_at"] += offset
    upload(deps, new_account_id(), png())

    # When they are listed two at a time
    first = list_files(account_id, "2", None, deps)
    second = list_files(account_id, "2", first.next_cursor, deps)

    # Then the pages hold the caller's files, newest first, and pending ones were read on the way
    assert [f.id for f in first.data] + [f.id for f in second.data] == ids[::-1]
    assert first.has_more and not second.has_more
    assert {f.status for f in first.data + second.data} == {"ready"}


def test_another_accounts_cursor_and_bad_limits_are_400(deps: FileDeps, account_id: str) -> None:
    # Given a cursor made for another account's listing
    other = new_account_id()
    for _ in range(2):
        upload(deps, other, png())
    cursor = list_files(other, "1", None, deps).next_cursor

    # When the caller pages with it, or with a bad limit
    with pytest.raises(InvalidRequest) as foreign:
        list_files(account_id, "1", cursor, deps)
    with pytest.raises(InvalidRequest) as zero:
        list_files(account_id, "0", None, deps)

    # Then both are 400s naming the parameter
    assert (foreign.value.param, zero.value.param) == ("after", "limit")
