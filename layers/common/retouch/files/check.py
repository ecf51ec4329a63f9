"""What an uploaded file is: the one place its bytes are judged before a job runs.

A file is `pending` until its object is in S3. When the file is read (GET, a listing, an edit naming it), a HEAD
gives the object's size and ETag, and a ranged read of the header alone (see images.inspect.read_header: 64 KiB
for almost any photo, never the whole 50 MB) gives its format, dimensions and alpha; the record then says
`ready` or `rejected`, with the ETag it was read at. The presigned POST can be used again while it is valid, so
an object whose ETag changed is read again; once `ready`, the file is a copy under `ready_key` taken only if the
object was still what was read, so a POST after that (or a delete of the upload's object) changes nothing a job
reads (#24 finding 4). The worker reads and checks the whole image before the provider does.
"""

from __future__ import annotations

from dataclasses import dataclass

from retouch.catalog import DEFAULT_MODEL, MODELS
from retouch.errors import InvalidImage
from retouch.images.input_checks import check_image_header
from retouch.images.inspect import CONTENT_TYPES, ImageInfo, read_header
from retouch.models.records import FileRecord
from retouch.ports import FileRepository, ObjectHead, ObjectMissing, ObjectStore

# A file's own status follows the default model's image rules; an edit applies its model's rules (and, for a
# mask, the mask rules) to what was read.
_FILE_LIMITS = MODELS[DEFAULT_MODEL].limits


@dataclass(frozen=True)
class FileState:
    record: FileRecord
    head: ObjectHead | None  # None: no object (not uploaded yet, or gone)


def image_info(record: FileRecord) -> ImageInfo | None:
    """What a ready file was read as."""
    if record.status != "ready" or record.format is None or not record.width or not record.height:
        return None
    return ImageInfo(format=record.format, content_type=CONTENT_TYPES[record.format], width=record.width,
                     height=record.height, has_alpha=bool(record.has_alpha))


def ready_key(file_id: str) -> str:
    """Where a ready file's bytes are kept: a copy no upload policy names (so a POST after `ready` changes nothing a
    job reads), under `uploads/` (the lifecycle rule expires it with the file), its key naming no account."""
    return f"uploads/ready/{file_id}"


# A client re-POSTing while its file is read makes the copy's ETag check fail: read again, this many times at most.
_READS = 3


def examine(record: FileRecord, files: FileRepository, store: ObjectStore) -> FileState | None:
    """The file with its status brought up to date with its object; None when the file was deleted meanwhile. A file
    found `ready` moves to its immutable copy (`ready_key`), taken only if the object is still what was read (else it
    is read again; a client that keeps re-uploading leaves it `pending`)."""
    for _ in range(_READS):
        state = _examine_once(record, files, store)
        if not isinstance(state, _Changed):
            return state
    return FileState(record, store.head(record.key))


class _Changed(FileState):
    """The object changed between its read and its copy."""


def _examine_once(record: FileRecord, files: FileRepository, store: ObjectStore) -> FileState | None:
    head = store.head(record.key)
    settled = record.status == "rejected" or record.key == ready_key(record.file_id)
    if head is None or (record.status != "pending" and settled and head.etag == record.etag):
        return FileState(record, head)
    try:
        header = read_header(lambda length: store.get_prefix(record.key, length), head.size)
    except ObjectMissing:  # removed between the HEAD and the read
        return FileState(record, None)
    found = {"bytes": head.size, "etag": head.etag}
    try:
        info = check_image_header(header, head.size, _FILE_LIMITS, "file")
    except InvalidImage as exc:
        fields = {"status": "rejected", **found, "error": {"code": exc.code or "invalid_image", "message": exc.message},
                  "format": None, "content_type": None, "width": None, "height": None, "has_alpha": None}
    else:
        copied = store.copy_if_unchanged(record.key, ready_key(record.file_id), head.etag)
        if copied is None:  # changed (or deleted) since it was read: not ready on these bytes
            return _Changed(record, head)
        fields = {"status": "ready", "key": ready_key(record.file_id), "bytes": copied.size, "etag": copied.etag,
                  "error": None, "format": info.format, "content_type": info.content_type, "width": info.width,
                  "height": info.height, "has_alpha": info.has_alpha}
    updated = files.record_check(record.file_id, fields)
    return FileState(updated, head) if updated is not None else None
