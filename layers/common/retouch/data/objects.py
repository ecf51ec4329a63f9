"""Input and output images in S3, and uploads clients send to S3 themselves (presigned POST)."""

from __future__ import annotations

import shutil
import tempfile
from typing import Any, BinaryIO

from botocore.exceptions import ClientError

from retouch.data.clients import aws_client
from retouch.ports import ObjectHead, ObjectMissing, PresignedPost

# Objects are copied to and from files in pieces of this size, so memory does not grow with the object.
COPY_CHUNK_BYTES = 1024 * 1024


def _missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound")


class ObjectStore:
    def __init__(self, bucket: str, client: Any | None = None) -> None:
        self._bucket = bucket
        self._client = client or aws_client("s3")

    def put(self, key: str, data: bytes | BinaryIO, content_type: str) -> None:
        """Store `data`: bytes, or a seekable file read in pieces from where it stands (one PUT, up to 5 GB)."""
        self._client.put_object(Bucket=self._bucket, Key=key, Body=data, ContentType=content_type)

    def _body(self, key: str) -> Any:
        try:
            return self._client.get_object(Bucket=self._bucket, Key=key)["Body"]
        except ClientError as exc:
            if _missing(exc):
                raise ObjectMissing(key) from exc
            raise

    def get(self, key: str) -> bytes:
        return self._body(key).read()  # type: ignore[no-any-return]

    def get_file(self, key: str) -> BinaryIO:
        """The object copied, in pieces, to an anonymous temporary file (removed when closed), positioned at 0."""
        body = self._body(key)
        spooled = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the caller, who closes it
        try:
            shutil.copyfileobj(body, spooled, COPY_CHUNK_BYTES)
        except BaseException:
            spooled.close()
            raise
        finally:
            body.close()
        spooled.seek(0)
        return spooled

    def get_prefix(self, key: str, length: int) -> bytes:
        """The object's first `length` bytes (all of it when shorter): one ranged GET."""
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=key, Range=f"bytes=0-{length - 1}")
        except ClientError as exc:
            if _missing(exc):
                raise ObjectMissing(key) from exc
            raise
        data: bytes = response["Body"].read()
        return data

    def head(self, key: str) -> ObjectHead | None:
        """Size and ETag of the object, or None when there is none."""
        try:
            response = self._client.head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        return ObjectHead(size=int(response["ContentLength"]), etag=str(response.get("ETag", "")))

    def copy_if_unchanged(self, source: str, dest: str, etag: str) -> ObjectHead | None:
        """Copy `source` to `dest` only if its ETag is still `etag` (S3 checks it with the copy); the copy's size and
        ETag, or None when the source changed or is gone."""
        try:
            self._client.copy_object(Bucket=self._bucket, Key=dest, CopySource={"Bucket": self._bucket, "Key": source},
                                     CopySourceIfMatch=etag, MetadataDirective="COPY")
        except ClientError as exc:
            if _missing(exc) or exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412"):
                return None
            raise
        return self.head(dest)

    def delete(self, keys: list[str]) -> None:
        if keys:
            self._client.delete_objects(Bucket=self._bucket,
                                        Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True})

    def keys_under(self, prefix: str) -> list[str]:
        """Every key under `prefix` (one List request per 1,000 keys)."""
        pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under `prefix`; how many there were."""
        keys = self.keys_under(prefix)
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1,000 keys
            self.delete(keys[start:start + 1000])
        return len(keys)

    def presign_get(self, key: str, expires_in: int) -> str:
        url: str = self._client.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=expires_in
        )
        return url

    def presign_post(self, key: str, *, content_type: str, size: int, expires_in: int) -> PresignedPost:
        """An upload to `key` that S3 accepts only with exactly `size` bytes and this Content-Type, for
        `expires_in` seconds (S3 checks the signed policy; the client cannot change it)."""
        post = self._client.generate_presigned_post(
            Bucket=self._bucket, Key=key, Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", size, size]],
            ExpiresIn=expires_in,
        )
        return PresignedPost(url=post["url"], fields={name: str(value) for name, value in post["fields"].items()})
