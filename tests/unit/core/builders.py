"""Test data shared by the core unit and integration tests: image bytes, multipart bodies and
HTTP/SQS events built from the real-shaped samples under events/.

Import as `tests.unit.core.builders` from either tier.
"""

from __future__ import annotations

import base64
import io
import json
import secrets
from functools import cache
from pathlib import Path
from typing import Any

from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[3]
EVENTS_DIR = REPO_ROOT / "events"

_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


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
