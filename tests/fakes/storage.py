"""In-memory ObjectStore and FileRepository (see retouch.ports)."""

from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

from retouch.models.records import FileRecord
from retouch.ports import ObjectHead, ObjectMissing, PresignedPost
from tests.fakes.plain import plain as _plain

if TYPE_CHECKING:
    from retouch import ports


@dataclass
class StoredObject:
    data: bytes
    content_type: str


class FakeObjectStore:
    def __init__(self) -> None:
        self.objects: dict[str, StoredObject] = {}
        self.prefix_reads: list[tuple[str, int]] = []  # (key, length) of each ranged read
        self.whole_reads: list[str] = []

    def put(self, key: str, data: bytes | BinaryIO, content_type: str) -> None:
        self.objects[key] = StoredObject(data if isinstance(data, bytes) else data.read(), content_type)

    def get(self, key: str) -> bytes:
        if key not in self.objects:
            raise ObjectMissing(key)
        self.whole_reads.append(key)
        return self.objects[key].data

    def get_file(self, key: str) -> BinaryIO:
        return io.BytesIO(self.get(key))

    def get_prefix(self, key: str, length: int) -> bytes:
        if key not in self.objects:
            raise ObjectMissing(key)
        self.prefix_reads.append((key, length))
        return self.objects[key].data[:length]

    def head(self, key: str) -> ObjectHead | None:
        stored = self.objects.get(key)
        if stored is None:
            return None
        etag = hashlib.md5(stored.data, usedforsecurity=False).hexdigest()  # S3's ETag of a single-part object
        return ObjectHead(size=len(stored.data), etag=f'"{etag}"')

    def copy_if_unchanged(self, source: str, dest: str, etag: str) -> ObjectHead | None:
        head = self.head(source)
        if head is None or head.etag != etag:
            return None
        self.objects[dest] = StoredObject(self.objects[source].data, self.objects[source].content_type)
        return self.head(dest)

    def presign_post(self, key: str, *, content_type: str, size: int, expires_in: int) -> PresignedPost:
        return PresignedPost(url="https://bucket.example/", fields={
            "Content-Type": content_type, "key": key, "policy": f"size={size};expires_in={expires_in}",
            "x-amz-signature": "fake"})

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            self.objects.pop(key, None)

    def keys_under(self, prefix: str) -> list[str]:
        return sorted(key for key in self.objects if key.startswith(prefix))

    def delete_prefix(self, prefix: str) -> int:
        keys = self.keys_under(prefix)
        self.delete(keys)
        return len(keys)

    def presign_get(self, key: str, expires_in: int) -> str:
        return f"https://bucket.example/{key}?X-Amz-Expires={expires_in}&X-Amz-Signature=fake"


class FakeFileRepository:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def create(self, record: FileRecord) -> None:
        if record.file_id in self.items:
            raise AssertionError(f"file {record.file_id} created twice")
        self.items[record.file_id] = _plain(record.model_dump(mode="json", exclude_none=True))

    def get(self, file_id: str) -> FileRecord | None:
        item = self.items.get(file_id)
        return FileRecord.model_validate(_plain(item)) if item else None

    def record_check(self, file_id: str, fields: dict[str, Any]) -> FileRecord | None:
        item = self.items.get(file_id)
        if item is None:
            return None
        for name, value in _plain(fields).items():
            if value is None:
                item.pop(name, None)
            else:
                item[name] = value
        return self.get(file_id)

    def delete(self, file_id: str) -> None:
        self.items.pop(file_id, None)

    def page(self, account_id: str, *, limit: int, now: int, cursor: str | None = None, end_user: str | None = None,
             ) -> tuple[list[FileRecord], str | None]:
        ordered = sorted((i for i in self.items.values() if i["account_id"] == account_id
                          and (end_user is None or i.get("end_user") == end_user)),
                         key=lambda i: (i["created_at"], i["file_id"]), reverse=True)
        start = 0
        if cursor:
            owner, _, after = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
            if owner != account_id:
                raise ValueError("invalid cursor")
            start = next(n for n, item in enumerate(ordered) if item["file_id"] == after) + 1
        window = ordered[start:start + limit]
        more = start + limit < len(ordered)
        next_cursor = base64.urlsafe_b64encode(f"{account_id}|{window[-1]['file_id']}".encode()).decode() \
            if more and window else None
        return [FileRecord.model_validate(_plain(i)) for i in window if i["expires_at"] > now], next_cursor


if TYPE_CHECKING:  # mypy checks each fake against its port
    _store: ports.ObjectStore = FakeObjectStore()
    _files: ports.FileRepository = FakeFileRepository()
