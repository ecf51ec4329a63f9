"""Input and output images in S3."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from retouch.data.clients import aws_client


class ObjectMissing(LookupError):
    """No object under that key (e.g. removed by the bucket's lifecycle rule)."""


class ObjectStore:
    def __init__(self, bucket: str, client: Any | None = None) -> None:
        self._bucket = bucket
        self._client = client or aws_client("s3")

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self._client.put_object(Bucket=self._bucket, Key=key, Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes:
        try:
            return self._client.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise ObjectMissing(key) from exc
            raise

    def delete(self, keys: list[str]) -> None:
        if keys:
            self._client.delete_objects(Bucket=self._bucket, Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True})

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
        return self._client.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=expires_in
        )
