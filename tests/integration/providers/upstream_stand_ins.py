"""What the adapter-against-stand-in tests share: each upstream's adapter built for its stand-in, input images
presigned on a loopback moto S3, and the exchanges recorded as they crossed the wire."""

from __future__ import annotations

import io
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from PIL import Image

from local.stand_ins.stand_in import StandIn
from local.stand_ins.upstreams import adapter_config
from retouch.providers.base import InputImage
from retouch.providers.upstream import Outcome, Pending, Presign, UpstreamAdapter, build_adapter

BUCKET = "stand-in-inputs"
_ID_SEGMENT = re.compile(r"/(gen_[0-9A-Za-z]+|\d+|[0-9a-f]{8}-[0-9a-f-]{27})(?=/|$)")
_DEPLOYMENT = re.compile(r"/openai/deployments/[^/]+/")


def png(size: tuple[int, int], mode: str = "RGB", colour: Any = (40, 110, 190)) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def alpha_mask(size: tuple[int, int]) -> InputImage:
    """OpenAI's mask: opaque, with a transparent (edit) square in the middle."""
    image = Image.new("RGBA", size, (0, 0, 0, 255))
    width, height = size
    image.paste((0, 0, 0, 0), (width // 4, height // 4, 3 * width // 4, 3 * height // 4))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return InputImage(data=buffer.getvalue(), content_type="image/png", filename="mask.png",
                      storage_key=f"inputs/{uuid.uuid4().hex}/mask.png")


def input_image(size: tuple[int, int] = (640, 480)) -> InputImage:
    return InputImage(data=png(size), content_type="image/png", filename="photo.png",
                      storage_key=f"inputs/{uuid.uuid4().hex}/photo.png")


@dataclass
class S3Presigner:
    """Stores an input in the loopback S3 (as the api function has) and presigns a short-lived GET for it."""

    s3: Any
    bucket: str = BUCKET

    def __call__(self, image: InputImage) -> str:
        key = image.storage_key or f"staged/{uuid.uuid4().hex}.png"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=image.data, ContentType=image.content_type)
        return str(self.s3.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": key},
                                                  ExpiresIn=300))


@dataclass
class Exchange:
    method: str
    path: str  # ids and deployment names replaced, to compare with recordings
    request_fields: set[str]
    request_files: list[str]
    status: int
    response: Any


@dataclass
class RecordingTransport(httpx.BaseTransport):
    """Real HTTP over loopback; every exchange with the provider kept (output downloads excepted)."""

    exchanges: list[Exchange] = field(default_factory=list)
    inner: httpx.HTTPTransport = field(default_factory=httpx.HTTPTransport)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        response = self.inner.handle_request(request)
        content = response.read()
        response.close()
        if not request.url.path.startswith("/files/"):
            fields, files = _request_fields(request, body)
            self.exchanges.append(Exchange(request.method, normalised_path(request.url.path), fields, files,
                                           response.status_code, _json_or_none(content)))
        return httpx.Response(response.status_code, headers=response.headers, content=content, request=request)


def normalised_path(path: str) -> str:
    return _ID_SEGMENT.sub("/<id>", _DEPLOYMENT.sub("/openai/deployments/<deployment>/", path))


def _request_fields(request: httpx.Request, body: bytes) -> tuple[set[str], list[str]]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        return set(json.loads(body)), []
    if content_type.startswith("multipart/form-data"):
        from tests.unit.providers.replay import form_parts

        fields, files = form_parts(request)
        return set(fields), files
    return set(), []


def _json_or_none(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return None


def adapter_for(stand_in: StandIn, key: str, presign: Presign, client: httpx.Client) -> UpstreamAdapter:
    """The stand-in's kind's adapter, made by its registered factory as the worker makes it for a routing entry
    calling the stand-in."""
    return build_adapter(stand_in.upstream, adapter_config(stand_in, api_key=key, presign=presign, client=client))


POLL_SECONDS = 0.05


def run_to_end(adapter: UpstreamAdapter, outcome: Outcome, max_seconds: float = 10.0) -> tuple[Outcome, int]:
    """Poll a pending outcome until it finishes: a stand-in's job is ready once its delay has passed (and past its
    `pending_polls`), so the polls come every POLL_SECONDS, for at most `max_seconds`."""
    polls = 0
    deadline = time.monotonic() + max_seconds
    while isinstance(outcome, Pending) and time.monotonic() < deadline:
        if polls:
            time.sleep(POLL_SECONDS)
        outcome = adapter.poll(outcome.handle)
        polls += 1
    return outcome, polls
