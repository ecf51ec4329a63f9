"""An erasure batch deletes every object of the end user's files: a ready file's immutable copy and the upload
itself (the object its presigned POST wrote, which the ready copy does not replace)."""

from __future__ import annotations

from typing import Any, cast

from retouch.end_users.erasure import ErasureDeps, run_erasure_batch
from retouch.files.check import ready_key
from retouch.files.uploads import upload_key
from retouch.models.erasures import ErasureRecord
from retouch.models.records import FileRecord, JobRecord
from tests.fakes.storage import FakeFileRepository, FakeObjectStore

NOW = 1_800_000_000
ACCOUNT = "acct_erasure"
USER = "user-1"


class _Erasures:
    def __init__(self, record: ErasureRecord) -> None:
        self.record = record
        self.batches: list[dict[str, Any]] = []

    def get(self, erasure_id: str) -> ErasureRecord | None:
        return self.record if erasure_id == self.record.erasure_id else None

    def record_batch(self, erasure_id: str, **counts: Any) -> None:
        self.batches.append(counts)


class _Queue:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, erasure_id: str, delay_seconds: int = 0) -> None:
        self.sent.append(erasure_id)


class _Items:
    """The end user's partition, read from the file repository (files only: no jobs in these tests)."""

    def __init__(self, files: FakeFileRepository) -> None:
        self._files = files

    def first(self, account_id: str, end_user: str, limit: int) -> list[JobRecord | FileRecord]:
        found = [FileRecord.model_validate(item) for item in self._files.items.values()
                 if item["account_id"] == account_id and item.get("end_user") == end_user]
        return list(found[:limit])

    def erase_job(self, job_id: str, now: int) -> bool:
        raise AssertionError("no jobs here")


def _ready_file(files: FakeFileRepository, store: FakeObjectStore, file_id: str) -> None:
    store.put(upload_key(ACCOUNT, file_id), b"the end user's photo", "image/png")
    store.put(ready_key(file_id), b"the end user's photo", "image/png")
    files.create(FileRecord(file_id=file_id, account_id=ACCOUNT, key=ready_key(file_id), filename="me.png",
                            purpose="image", mime_type="image/png", declared_bytes=20, status="ready",
                            created_at=NOW, expires_at=NOW + 3600, end_user=USER))


def test_a_ready_files_upload_and_its_copy_are_both_erased() -> None:
    files, store = FakeFileRepository(), FakeObjectStore()
    _ready_file(files, store, "file-ready1")
    store.put(upload_key("acct_other", "file-other"), b"another account's", "image/png")
    erasures = _Erasures(ErasureRecord(erasure_id="erase_1", account_id=ACCOUNT, end_user=USER, created_at=NOW,
                                       expires_at=NOW + 86400))
    deps = ErasureDeps(erasures=cast(Any, erasures), queue=cast(Any, _Queue()), items=cast(Any, _Items(files)),
                       jobs=cast(Any, None), files=files, store=store, billing=cast(Any, None))

    run_erasure_batch("erase_1", deps, NOW)

    assert sorted(store.objects) == [upload_key("acct_other", "file-other")]
    assert files.items == {}
    assert erasures.batches[0]["objects"] == 2
