"""local.aws.s3_post_policy: the checks S3 makes on a presigned POST upload (and moto does not), on forms botocore
signs."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config

from local.aws.s3_post_policy import check_post

SECRET = "testing"
BUCKET = "retouch-local-bucket"
KEY = "uploads/acct_x/file_y"
SIZE = 1000


def presigned(*, secret: str = SECRET, expires_in: int = 300, size: int = SIZE) -> dict[str, str]:
    """The form fields of a presigned POST exactly as the api function makes them (retouch.data.objects)."""
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                      aws_access_key_id="testing", aws_secret_access_key=secret,
                      config=Config(signature_version="s3v4"))  # as retouch.data.clients builds it
    post = s3.generate_presigned_post(BUCKET, KEY, Fields={"Content-Type": "image/png"},
                                      Conditions=[{"Content-Type": "image/png"}, ["content-length-range", size, size]],
                                      ExpiresIn=expires_in)
    return post["fields"]


def check(fields: dict[str, str], *, file_size: int = SIZE, now: datetime | None = None,
          bucket: str = BUCKET) -> Any:
    return check_post(fields, bucket=bucket, file_size=file_size, now=now or datetime.now(UTC), secret=SECRET)


def test_the_exact_upload_it_was_made_for_is_accepted() -> None:
    assert check(presigned()) is None


@pytest.mark.parametrize(("file_size", "code"), [(SIZE + 1, "EntityTooLarge"), (SIZE - 1, "EntityTooSmall")])
def test_a_file_of_another_size_is_s3s_400(file_size: int, code: str) -> None:
    refusal = check(presigned(), file_size=file_size)
    assert (refusal.status, refusal.code) == (400, code)


@pytest.mark.parametrize(("field", "value"), [("Content-Type", "image/gif"), ("key", "uploads/acct_other/file_y")])
def test_a_changed_field_fails_its_policy_condition(field: str, value: str) -> None:
    # Given the form with one signed field changed by the client
    fields = {**presigned(), field: value}

    # When S3 would check it, Then it is 403 AccessDenied naming the failed condition
    refusal = check(fields)
    assert (refusal.status, refusal.code) == (403, "AccessDenied")
    assert "Policy Condition failed" in refusal.message


def test_a_field_outside_the_policy_is_refused_but_x_ignore_fields_are_not() -> None:
    assert "Extra input fields: acl" in check({**presigned(), "acl": "public-read"}).message
    assert check({**presigned(), "x-ignore-note": "anything"}) is None


def test_a_late_upload_is_refused_as_expired() -> None:
    refusal = check(presigned(expires_in=60), now=datetime.now(UTC) + timedelta(seconds=61))
    assert (refusal.status, refusal.code, refusal.message) == (
        403, "AccessDenied", "Invalid according to Policy: Policy expired.")


def test_another_bucket_fails_the_bucket_condition() -> None:
    assert check(presigned(), bucket="someone-elses-bucket").status == 403


def test_a_policy_rewritten_by_the_client_fails_the_signature() -> None:
    # Given a client that widens content-length-range in the policy it was given
    fields = presigned()
    policy = json.loads(base64.b64decode(fields["policy"]))
    policy["conditions"] = [c if not (isinstance(c, list) and c[0] == "content-length-range")
                            else ["content-length-range", 0, 10**9] for c in policy["conditions"]]
    fields["policy"] = base64.b64encode(json.dumps(policy).encode()).decode()

    # When S3 would check it, Then the signature no longer matches
    refusal = check(fields, file_size=5000)
    assert (refusal.status, refusal.code) == (403, "SignatureDoesNotMatch")


def test_a_form_signed_with_another_secret_or_without_a_policy_is_refused() -> None:
    assert check(presigned(secret="not-the-secret")).code == "SignatureDoesNotMatch"
    assert check({"key": KEY, "Content-Type": "image/png"}).code == "AccessDenied"


def test_refusals_are_s3_error_xml() -> None:
    status, headers, body = check(presigned(), file_size=SIZE + 1).response()
    assert status == 400 and headers["Content-Type"] == "application/xml"
    assert "<Code>EntityTooLarge</Code>" in body
