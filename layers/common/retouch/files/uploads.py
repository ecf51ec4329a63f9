"""The file routes' logic: create an upload (a pending file and its presigned POST), read, list and delete files.

A file belongs to its account: another account's file id is a 404 everywhere, as a missing or expired one is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from retouch.errors import FileNotFound
from retouch.files.check import examine
from retouch.models.common import FILE_ID_PATTERN, new_file_id, now_epoch
from retouch.models.records import FileRecord
from retouch.models.requests import UploadRequest
from retouch.models.responses import FileDeleted, FileErrorView, FileList, FileView, UploadTarget, UploadView
from retouch.paging import invalid_cursor, page_size
from retouch.ports import FileRepository, ObjectStore

_FILE_ID = re.compile(FILE_ID_PATTERN)


@dataclass(frozen=True)
class FileDeps:
    files: FileRepository
    store: ObjectStore
    expiry_seconds: int  # a file (record and object) lives this long after its upload was created
    upload_url_seconds: int  # the presigned POST is accepted this long


def upload_key(account_id: str, file_id: str) -> str:
    """Under `uploads/`, which the bucket's lifecycle rule expires."""
    return f"uploads/{account_id}/{file_id}"


def file_view(record: FileRecord) -> FileView:
    return FileView(id=record.file_id, filename=record.filename, purpose=record.purpose, status=record.status,
                    bytes=record.bytes or record.declared_bytes, mime_type=record.mime_type, format=record.format,
                    width=record.width, height=record.height, created_at=record.created_at,
                    expires_at=record.expires_at, user=record.end_user,
                    error=FileErrorView(**record.error.model_dump()) if record.error else None)


def create_upload(account_id: str, request: UploadRequest, deps: FileDeps, *, end_user: str | None = None,
                  ) -> UploadView:
    """A pending file and the presigned POST that uploads exactly `request.bytes` bytes of `request.mime_type`."""
    now = now_epoch()
    file_id = new_file_id()
    record = FileRecord(file_id=file_id, account_id=account_id, key=upload_key(account_id, file_id),
                        filename=request.filename, purpose=request.purpose, mime_type=request.mime_type,
                        declared_bytes=request.bytes, status="pending", created_at=now,
                        expires_at=now + deps.expiry_seconds, end_user=end_user)
    post = deps.store.presign_post(record.key, content_type=request.mime_type, size=request.bytes,
                                   expires_in=deps.upload_url_seconds)
    deps.files.create(record)
    return UploadView(**file_view(record).model_dump(exclude={"object"}),
                      upload=UploadTarget(url=post.url, fields=post.fields),
                      upload_expires_at=now + deps.upload_url_seconds)


def owned_file(files: FileRepository, account_id: str, file_id: str) -> FileRecord | None:
    """The caller's file (perhaps expired), or None: a malformed id, a missing file and another account's alike."""
    record = files.get(file_id) if _FILE_ID.match(file_id) else None
    return record if record is not None and record.account_id == account_id else None


def _find(account_id: str, file_id: str, deps: FileDeps) -> FileRecord:
    """The caller's unexpired file, or a 404 (an expired file is gone, even before TTL deletes its record)."""
    record = owned_file(deps.files, account_id, file_id)
    if record is None or record.expires_at <= now_epoch():
        raise FileNotFound(f"No file found with id '{file_id}'.", param="file_id")
    return record


def get_file(account_id: str, file_id: str, deps: FileDeps) -> FileView:
    """The file, its status read from its object if that may have changed."""
    state = examine(_find(account_id, file_id, deps), deps.files, deps.store)
    if state is None:
        raise FileNotFound(f"No file found with id '{file_id}'.", param="file_id")
    return file_view(state.record)


def delete_file(account_id: str, file_id: str, deps: FileDeps) -> FileDeleted:
    """The record and the object; a queued job that names the file then ends failed (`input_missing`)."""
    record = _find(account_id, file_id, deps)
    deps.files.delete(record.file_id)
    # Its bytes (the ready copy) and the upload's own object, which a POST may have written again after `ready`.
    deps.store.delete(sorted({record.key, upload_key(account_id, record.file_id)}))
    return FileDeleted(id=record.file_id)


def list_files(account_id: str, limit: str | None, after: str | None, deps: FileDeps, *,
               end_user: str | None = None) -> FileList:
    """Newest first, unexpired only; `after` is the previous page's `next_cursor`. Pending files are examined,
    so a listing shows the same status a GET would."""
    try:
        records, cursor = deps.files.page(account_id, limit=page_size(limit), now=now_epoch(), cursor=after,
                                          end_user=end_user)
    except ValueError:
        raise invalid_cursor() from None
    views = []
    for stored in records:
        record = stored
        if stored.status == "pending":
            state = examine(stored, deps.files, deps.store)
            if state is None:  # deleted meanwhile
                continue
            record = state.record
        views.append(file_view(record))
    return FileList(data=views, has_more=cursor is not None, next_cursor=cursor)
