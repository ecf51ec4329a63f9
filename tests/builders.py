"""Test data shared by the unit and integration tiers: image bytes, multipart bodies, HTTP/SQS events built from
the real-shaped samples under events/, and a queued job as submit leaves it.

Import as `tests.builders` from either tier (scripts/bench_upstream_idle.py builds its job here too).
"""

from __future__ import annotations

import base64
import io
import json
import os
import secrets
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from retouch.billing.rate_limit import Admission
from retouch.models.common import now_epoch
from retouch.models.records import JobRecord
from retouch.ports import Ledger

if TYPE_CHECKING:
    from tests.fakes import FakeJobRepository

REPO_ROOT = Path(__file__).resolve().parents[1]
EVENTS_DIR = REPO_ROOT / "events"

_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


# -- A request the rate limit admitted ---------------------------------------------------------


def admission_for(ledger: Ledger, account_id: str) -> Admission:
    """What the api's rate limit hands a submit (the account as read now), without counting a request. The fake
    ledger holds one account whatever the id asked, so the id is the caller's."""
    account = ledger.get_account(account_id)
    assert account is not None, f"no account {account_id}"
    account = account.model_copy(update={"account_id": account_id})
    return Admission(account=account, limit=account.requests_per_minute, remaining=account.requests_per_minute,
                     reset_seconds=60)


# -- Unique ids ---------------------------------------------------------------------------------


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_account_id() -> str:
    """An account id matching AccountId's pattern, unique per call."""
    return "acct_" + _random(20)


def new_job_id() -> str:
    """A job id matching JobId's pattern, unique per call."""
    return "job_" + _random(24)


# -- Image bytes --------------------------------------------------------------------------------


@cache
def image_bytes(fmt: str = "png", width: int = 96, height: int = 64, mode: str = "RGB") -> bytes:
    """A small real image; cached because tests only read it."""
    colour: Any = (200, 80, 40, 255) if mode == "RGBA" else (200, 80, 40)
    if mode == "L":
        colour = 128
    buffer = io.BytesIO()
    Image.new(mode, (width, height), colour).save(buffer, format={"jpeg": "JPEG", "jpg": "JPEG"}.get(fmt, fmt.upper()))
    return buffer.getvalue()


@cache
def noisy_image(fmt: str, width: int = 160, height: int = 120) -> bytes:
    """A real image whose data does not compress to nothing (truncating it cuts into pixel data)."""
    buffer = io.BytesIO()
    Image.effect_noise((width, height), 64).convert("RGB").save(buffer, format=fmt.upper())
    return buffer.getvalue()


def png(width: int = 96, height: int = 64) -> bytes:
    return image_bytes("png", width, height)


def mask_png(width: int = 96, height: int = 64, *, alpha: bool = True) -> bytes:
    return image_bytes("png", width, height, "RGBA" if alpha else "RGB")


def data_url(data: bytes, media: str = "image/png") -> str:
    return f"data:{media};base64,{base64.b64encode(data).decode()}"


def image_size(data: bytes) -> tuple[str, tuple[int, int]]:
    with Image.open(io.BytesIO(data)) as img:
        return img.format or "", img.size


# -- Multipart ----------------------------------------------------------------------------------

BOUNDARY = "retouch-test-boundary-7d1f"


def file_part(name: str, data: bytes, filename: str = "image.png", content_type: str = "image/png") -> tuple:
    return (name, data, filename, content_type)


def multipart(fields: list[tuple], boundary: str = BOUNDARY) -> bytes:
    """`fields`: (name, value) for text fields, (name, bytes, filename, content_type) for files."""
    out = bytearray()
    for field in fields:
        name, value = field[0], field[1]
        out += f"--{boundary}\r\n".encode()
        if len(field) > 2:
            filename, content_type = field[2], field[3]
            out += f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'.encode()
            out += f"Content-Type: {content_type}\r\n\r\n".encode()
        else:
            out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value if isinstance(value, bytes) else str(value).encode()
        out += b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out)


def multipart_content_type(boundary: str = BOUNDARY) -> str:
    return f"multipart/form-data; boundary={boundary}"


# -- Events -------------------------------------------------------------------------------------


@cache
def _sample(name: str) -> str:
    return (EVENTS_DIR / name).read_text()


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of events/<name> (tests may mutate it)."""
    return json.loads(_sample(name))


def http_event(
    sample: str,
    *,
    account_id: str | None,
    body: bytes | str | None = None,
    content_type: str | None = None,
    headers: dict[str, str] | None = None,
    base64_body: bool | None = None,
) -> dict[str, Any]:
    """An HTTP API event from a sample, with the authorizer's account swapped (None: no account)."""
    event = load_event(sample)
    lambda_ctx = event["requestContext"].get("authorizer", {}).get("lambda")
    if lambda_ctx is not None:
        if account_id is None:
            lambda_ctx["account_id"] = ""
            lambda_ctx.pop("key_id", None)
        else:
            lambda_ctx["account_id"] = account_id
    if content_type is not None:
        event["headers"]["content-type"] = content_type
    event["headers"].pop("content-length", None)
    event["headers"].update(headers or {})
    if body is not None:
        raw = body if isinstance(body, bytes) else body.encode()
        encode = base64_body if base64_body is not None else isinstance(body, bytes)
        event["isBase64Encoded"] = encode
        event["body"] = base64.b64encode(raw).decode() if encode else raw.decode()
    return event


def json_event(sample: str, payload: dict[str, Any], *, account_id: str | None, **kwargs: Any) -> dict[str, Any]:
    return http_event(sample, account_id=account_id, body=json.dumps(payload), content_type="application/json",
                      base64_body=False, **kwargs)


def multipart_event(fields: list[tuple], *, account_id: str | None, **kwargs: Any) -> dict[str, Any]:
    return http_event("edit_multipart.json", account_id=account_id, body=multipart(fields),
                      content_type=multipart_content_type(), base64_body=True, **kwargs)


def path_event(sample: str, name: str, value: str, *, account_id: str | None, **kwargs: Any) -> dict[str, Any]:
    """A sample whose path parameter `name` (job_id, file_id) is `value` instead of the sample's."""
    event = http_event(sample, account_id=account_id, **kwargs)
    sample_value = event["pathParameters"][name]
    for holder, key in ((event, "rawPath"), (event["requestContext"]["http"], "path")):
        holder[key] = holder[key].replace(sample_value, value)
    event["pathParameters"][name] = value
    return event


def get_job_event(job_id: str, *, account_id: str | None) -> dict[str, Any]:
    return job_event("get_job.json", job_id, account_id=account_id)


def job_event(sample: str, job_id: str, *, account_id: str | None, **kwargs: Any) -> dict[str, Any]:
    """A sample event of a /v1/jobs/{job_id}... route, for `job_id`."""
    return path_event(sample, "job_id", job_id, account_id=account_id, **kwargs)


def query_event(sample: str, params: dict[str, str], *, account_id: str | None) -> dict[str, Any]:
    """A GET sample with these query parameters instead of the sample's."""
    from urllib.parse import urlencode

    event = http_event(sample, account_id=account_id)
    event["rawQueryString"] = urlencode(params)
    event["queryStringParameters"] = dict(params) or None
    if not params:
        event.pop("queryStringParameters")
    return event


def list_jobs_event(*, account_id: str | None, **params: Any) -> dict[str, Any]:
    """GET /v1/jobs with these query parameters (None values left out)."""
    from urllib.parse import urlencode

    event = http_event("list_jobs.json", account_id=account_id)
    query = {name: str(value) for name, value in params.items() if value is not None}
    event["rawQueryString"] = urlencode(query)
    event["queryStringParameters"] = query or None
    if not query:
        event.pop("queryStringParameters")
    return event


def sqs_event(sample: str, job_id: str, *, receipt_handle: str | None = None, message_id: str | None = None,
              body: str | None = None) -> dict[str, Any]:
    event = load_event(sample)
    record = event["Records"][0]
    record["body"] = body if body is not None else json.dumps({"job_id": job_id})
    if receipt_handle is not None:
        record["receiptHandle"] = receipt_handle
    record["messageId"] = message_id or "msg-" + _random(12)
    return event


def authorizer_event(authorization: str | None) -> dict[str, Any]:
    event = load_event("authorizer_request.json")
    if authorization is None:
        event["headers"].pop("authorization", None)
        event["identitySource"] = []
    else:
        event["headers"]["authorization"] = authorization
        event["identitySource"] = [authorization]
    return event


def edit_payload(**overrides: Any) -> dict[str, Any]:
    """A valid JSON edit body (one data: URL image); override or drop keys per test."""
    payload: dict[str, Any] = {"model": "gpt-image-2", "prompt": "make it dusk",
                               "images": [{"image_url": data_url(png())}]}
    payload.update(overrides)
    return payload


def generation_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"model": "gpt-image-2", "prompt": "a lighthouse at dawn"}
    payload.update(overrides)
    return payload


# -- Images and jobs the unit tests share ---------------------------------------------------------


def noisy(fmt: str, size: tuple[int, int]) -> bytes:
    """A photo-like image that does not compress: its header is a sliver of it."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(buffer, format=fmt)
    return buffer.getvalue()


def queued_job(jobs: FakeJobRepository, *, kind: str = "generation", request: dict[str, Any] | None = None,
               **fields: Any) -> JobRecord:
    """Given-state: a job as submit leaves it (queued, holding $1), stored in the fake repository."""
    now = now_epoch()
    fields.setdefault("account_id", new_account_id())
    fields.setdefault("reserved_micros", 1_000_000)
    fields.setdefault("markup_percent", 0)
    fields.setdefault("hold_on_account", True)
    record = JobRecord(job_id=new_job_id(), kind=kind, status="queued",
                       model="gpt-image-2",
                       request=request or {"model": "gpt-image-2", "prompt": "a lighthouse", "n": 1,
                                           "size": "1024x1024", "output_format": "png", "response_format": "url"},
                       created_at=now, expires_at=now + 3600, **fields)
    jobs.put(record)
    return record
