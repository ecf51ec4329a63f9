"""An edit's `{"file_id": ...}` inputs, checked at submit before any credit is held.

Each named file must be the caller's, unexpired, uploaded (its object in S3) and, as read by content
(files.check: a HEAD, and the header alone when it was not read yet), an image that meets the request's model's
rules, or the mask rules for `mask`. Anything else is a 400 naming the param (`images[2].file_id`, `mask.file_id`),
and nothing is written. The job then names the upload's S3 key as its input; the worker reads the whole object.
"""

from __future__ import annotations

from dataclasses import dataclass

from retouch.catalog import ModelLimits
from retouch.errors import InvalidImage, UnusableFile
from retouch.files.check import examine, image_info
from retouch.files.uploads import owned_file
from retouch.images.input_checks import Dimensions, image_rules, mask_rules
from retouch.images.inspect import ImageInfo
from retouch.models.common import now_epoch
from retouch.models.records import StoredInput
from retouch.ports import FileRepository, ObjectStore


@dataclass(frozen=True)
class FileInput:
    stored: StoredInput
    info: ImageInfo


def file_input(account_id: str, file_id: str, param: str, limits: ModelLimits, files: FileRepository,
               store: ObjectStore, *, mask_for: Dimensions | None = None, is_mask: bool = False,
               end_user: str | None = None) -> FileInput:
    """The file as a job input, or a 400 naming `param`. `is_mask`: checked as the mask of an edit whose first
    image is `mask_for` (None when that image is only known to the worker, e.g. a URL)."""
    record = owned_file(files, account_id, file_id)
    if record is not None and end_user is not None and record.end_user != end_user:
        record = None  # another end user's upload, to a device token (auth/client_tokens.py)
    if record is None:
        raise UnusableFile(f"No file found with id '{file_id}'.", param=param, code="file_not_found")
    if record.expires_at <= now_epoch():
        raise UnusableFile(f"The file '{file_id}' has expired; upload it again.", param=param, code="file_expired")
    state = examine(record, files, store)
    if state is None:
        raise UnusableFile(f"No file found with id '{file_id}'.", param=param, code="file_not_found")
    record = state.record
    if state.head is None:
        if record.status == "pending":
            raise UnusableFile(f"The file '{file_id}' has not been uploaded yet: send its bytes to the upload's "
                               "URL first.", param=param, code="file_not_ready")
        raise UnusableFile(f"The file '{file_id}' is no longer stored; upload it again.", param=param,
                           code="file_expired")
    if record.error is not None:
        raise InvalidImage(f"The file '{file_id}' is not a usable image: {record.error.message}", param=param,
                           code=record.error.code)
    info = image_info(record)
    if info is None or record.bytes is None:  # examined and neither ready nor rejected: never expected
        raise UnusableFile(f"The file '{file_id}' could not be read.", param=param, code="file_not_ready")
    if is_mask:
        mask_rules(info, record.bytes, mask_for, limits, param)
    else:
        image_rules(info, record.bytes, limits, param)
    stored = StoredInput(key=record.key, file_id=record.file_id, content_type=info.content_type, bytes=record.bytes,
                         width=info.width, height=info.height)
    return FileInput(stored=stored, info=info)
