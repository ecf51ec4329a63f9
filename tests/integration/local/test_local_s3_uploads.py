"""Presigned POST uploads over HTTP to the local AWS emulation (a real moto server child): reachable from the host,
and refused as S3 refuses them (local.aws.s3_post_policy), with the presigned POST retouch.data.objects makes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from botocore.config import Config

from retouch.data.objects import ObjectStore

BUCKET = "uploads-test-bucket"
KEY = "uploads/acct_test/file_test"


@pytest.fixture(scope="module")
def store(moto_url: str) -> ObjectStore:
    import boto3

    # Signed the way the functions sign (retouch.data.clients: SigV4), with the local credential.
    s3 = boto3.session.Session().client("s3", endpoint_url=moto_url, region_name="us-east-1",
                                        aws_access_key_id="testing", aws_secret_access_key="testing",
                                        config=Config(signature_version="s3v4"))
    s3.create_bucket(Bucket=BUCKET)
    return ObjectStore(BUCKET, client=s3)


def post(url: str, fields: dict[str, str], data: bytes, content_type: str = "image/png") -> httpx.Response:
    return httpx.post(url, data=fields, files={"file": ("photo.png", data, content_type)}, timeout=30)


@pytest.mark.parametrize(("sent", "status", "code"), [
    (b"x" * 1001, 400, "EntityTooLarge"),
    (b"x" * 999, 400, "EntityTooSmall"),
])
def test_a_file_of_another_size_than_declared_is_refused_and_not_stored(sent: bytes, status: int, code: str,
                                                                       store: ObjectStore) -> None:
    # Given a presigned POST for exactly 1000 bytes of image/png
    presigned = store.presign_post(KEY + code, content_type="image/png", size=1000, expires_in=300)

    # When the client posts another size to the local endpoint
    response = post(presigned.url, presigned.fields, sent)

    # Then it gets S3's error and nothing is stored
    assert response.status_code == status and f"<Code>{code}</Code>" in response.text
    assert store.head(KEY + code) is None


def test_the_declared_size_and_type_are_stored_from_the_host(store: ObjectStore, moto_url: str) -> None:
    # Given a presigned POST made by the functions' code, pointing at the local endpoint
    presigned = store.presign_post(KEY, content_type="image/png", size=1000, expires_in=300)
    assert presigned.url.startswith(moto_url)

    # When the client posts exactly that
    response = post(presigned.url, presigned.fields, b"y" * 1000)

    # Then S3's 204, and the object is there with its size (a ranged read gives its first bytes)
    assert response.status_code == 204, response.text
    head = store.head(KEY)
    assert head is not None and head.size == 1000 and store.get_prefix(KEY, 10) == b"y" * 10


@pytest.mark.parametrize("change", [{"Content-Type": "image/gif"}, {"key": "uploads/acct_other/file_x"},
                                    {"acl": "public-read"}])
def test_a_form_changed_by_the_client_is_refused(change: dict[str, Any], store: ObjectStore) -> None:
    presigned = store.presign_post(KEY + "-changed", content_type="image/png", size=10, expires_in=300)
    response = post(presigned.url, {**presigned.fields, **change}, b"z" * 10)
    assert response.status_code == 403 and "<Code>AccessDenied</Code>" in response.text
    assert store.head(KEY + "-changed") is None and store.head("uploads/acct_other/file_x") is None
