"""What S3 checks on a copy and moto's S3 does not: `x-amz-copy-source-if-match` (CopySourceIfMatch). Installed by
local.aws.moto_server and the integration tests.

S3 copies only if the source's ETag is the one given, else answers 412 PreconditionFailed; moto 5.2.6 checks
`if-none-match` only. Retouch's ready copy of an uploaded file (files/check.py) relies on the check: without it a
re-upload between the read and the copy would make a file ready on bytes that were never read.

Written against moto 5.2.6 (local.aws.MOTO_VERSION): wraps S3Response.copy_object.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlparse

_installed = False


def install() -> None:
    """Patch moto's CopyObject to refuse a copy whose source ETag is not the one required (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    from moto.s3.exceptions import PreconditionFailed
    from moto.s3.responses import S3Response

    original = S3Response.copy_object

    def copy_object(self: Any) -> Any:
        required = self.headers.get("x-amz-copy-source-if-match")
        if required is not None:
            source = self.headers.get("x-amz-copy-source")
            if isinstance(source, bytes):
                source = source.decode("utf-8")
            bucket, key = unquote(urlparse(source).path).lstrip("/").split("/", 1)
            current = self.backend.get_object(bucket, key)
            if current is not None and required not in (current.etag, current.etag.strip('"')):
                raise PreconditionFailed(failed_condition="x-amz-copy-source-If-Match")
        return original(self)

    S3Response.copy_object = copy_object
