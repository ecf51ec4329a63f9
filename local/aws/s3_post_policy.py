"""What S3 checks on a presigned POST upload and moto's S3 does not. Installed by local.aws.moto_server.

moto stores whatever a POST form carries. S3 first checks the form against its signed policy: the signature (the
base64 policy signed with SigV4 under the credential's secret), the expiration, every condition (exact match,
starts-with, content-length-range on the file), and that no form field is outside the policy. So the local stack
refuses an upload of the wrong size or type, a late one or a tampered one, as S3 does, with S3's answers:

    400 EntityTooLarge / EntityTooSmall               the file is outside content-length-range
    403 AccessDenied "Invalid according to Policy: …" expired, a condition failed, an extra field, no policy
    403 SignatureDoesNotMatch                          the policy or its signing fields were changed

Locally every credential has the same secret (local.aws.LOCAL_CREDENTIAL), so signatures are checked with it.
Only SigV4 forms (what retouch.data.clients signs) are understood; a SigV2 form is refused.

Written against moto 5.2.6 (local.aws.MOTO_VERSION): wraps S3Response._bucket_response_post and reads its
form_data and body.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

# Form fields S3 never matches against the policy.
_UNCHECKED = frozenset({"policy", "x-amz-signature", "file"})
_SERVICE = "s3"


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str

    def response(self) -> tuple[int, dict[str, str], str]:
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{self.code}</Code>'
                f"<Message>{escape(self.message)}</Message></Error>")
        return self.status, {"Content-Type": "application/xml"}, body


def _policy_failed(detail: str) -> Refusal:
    return Refusal(403, "AccessDenied", f"Invalid according to Policy: {detail}")


def _signing_key(secret: str, date: str, region: str) -> bytes:
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, _SERVICE, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _signature_refusal(fields: Mapping[str, str], secret: str) -> Refusal | None:
    credential = fields.get("x-amz-credential", "").split("/")
    if fields.get("x-amz-algorithm") != "AWS4-HMAC-SHA256" or len(credential) != 5 or not fields.get("x-amz-date"):
        return _policy_failed("Missing or malformed x-amz-algorithm, x-amz-credential or x-amz-date.")
    _, date, region, _, _ = credential
    expected = hmac.new(_signing_key(secret, date, region), fields["policy"].encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, fields.get("x-amz-signature", "")):
        return Refusal(403, "SignatureDoesNotMatch",
                       "The request signature we calculated does not match the signature you provided.")
    return None


def _expired(expiration: Any, now: datetime) -> bool:
    try:
        at = datetime.fromisoformat(str(expiration).replace("Z", "+00:00"))
    except ValueError:
        return True
    return at <= now


def _condition_refusal(condition: Any, fields: Mapping[str, str], file_size: int,
                       covered: set[str]) -> Refusal | None:
    """One policy condition against the form; records which fields it covers."""
    failed = _policy_failed(f"Policy Condition failed: {json.dumps(condition)}")
    if isinstance(condition, dict) and len(condition) == 1:
        (name, value), = condition.items()
        condition = ["eq", f"${name}", value]
    if not isinstance(condition, list) or len(condition) != 3:
        return _policy_failed("Invalid Policy: Invalid JSON.")
    operator = str(condition[0]).lower()
    if operator == "content-length-range":
        try:
            low, high = int(condition[1]), int(condition[2])
        except (TypeError, ValueError):
            return _policy_failed("Invalid Policy: Invalid content-length-range.")
        if file_size > high:
            return Refusal(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
        if file_size < low:
            return Refusal(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size")
        return None
    if operator not in ("eq", "starts-with"):
        return _policy_failed("Invalid Policy: Invalid condition.")
    name = str(condition[1]).lstrip("$").lower()
    covered.add(name)
    actual, expected = fields.get(name), str(condition[2])
    matches = actual is not None and (actual == expected if operator == "eq" else actual.startswith(expected))
    return None if matches else failed


def check_post(form: Mapping[str, str], *, bucket: str, file_size: int, now: datetime, secret: str) -> Refusal | None:
    """Why S3 would refuse this POST upload to `bucket` of a `file_size`-byte file, or None when it would store it."""
    fields = {name.lower(): value for name, value in form.items()}
    fields["bucket"] = bucket  # S3 matches the `bucket` condition against the bucket posted to
    if "policy" not in fields:
        return Refusal(403, "AccessDenied", "Access Denied")  # anonymous uploads need a public bucket
    refusal = _signature_refusal(fields, secret)
    if refusal is not None:
        return refusal
    try:
        policy = json.loads(base64.b64decode(fields["policy"], validate=True))
    except (binascii.Error, ValueError):
        return _policy_failed("Invalid Policy: Invalid JSON.")
    if not isinstance(policy, dict) or not isinstance(policy.get("conditions"), list):
        return _policy_failed("Invalid Policy: Invalid JSON.")
    if _expired(policy.get("expiration"), now):
        return _policy_failed("Policy expired.")
    covered: set[str] = {"bucket"}
    for condition in policy["conditions"]:
        refusal = _condition_refusal(condition, fields, file_size, covered)
        if refusal is not None:
            return refusal
    extra = sorted(name for name in fields if name not in covered and name not in _UNCHECKED
                   and not name.startswith("x-ignore-"))
    if extra:
        return _policy_failed(f"Extra input fields: {', '.join(extra)}")
    return None


_installed = False


def install(secret: str) -> None:
    """Patch moto's S3 POST upload to refuse what S3 refuses (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    from moto.s3.responses import S3Response

    original = S3Response._bucket_response_post

    def bucket_response_post(self: Any, request: Any, bucket_name: str) -> Any:
        form = self.form_data
        if "key" in form:  # a POST upload (a multi-object delete is a POST too, with no form)
            body = self.body if isinstance(self.body, bytes) else str(self.body or "").encode()
            fields = {name: value for name, value in form.items() if name != "file"}
            refusal = check_post(fields, bucket=bucket_name, file_size=len(body), now=datetime.now(UTC),
                                 secret=secret)
            if refusal is not None:
                return refusal.response()
        return original(self, request, bucket_name)

    S3Response._bucket_response_post = bucket_response_post
