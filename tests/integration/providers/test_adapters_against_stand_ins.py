"""Each upstream's ADAPTER against its STAND-IN over real loopback HTTP, inputs fetched by the stand-in from
presigned URLs on a loopback moto S3: a normal edit (with a mask where the upstream takes one), the async
pending -> finished cycle, a 503, a wrong key, a refusal. The exchanges are compared with the recordings under
tests/fixtures/providers, so stand-ins, adapters and the providers' documented examples cannot drift apart."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import httpx
import pytest
from PIL import Image

from local.aws.moto_server import MotoServer
from local.console import Console
from local.stand_ins.upstreams import ASYNC_UPSTREAMS, UpstreamStandIns
from retouch.providers.base import ProviderAuthFailed, ProviderRefused, ProviderUnavailable
from retouch.providers.upstream import Finished, Pending, PollHandle
from tests.integration.providers.upstream_stand_ins import (
    BUCKET,
    RecordingTransport,
    S3Presigner,
    adapter_for,
    alpha_mask,
    input_image,
    normalised_path,
    run_to_end,
)
from tests.unit.providers.replay import load

KEY = "stand-in-test-key"


@dataclass(frozen=True)
class Case:
    """A normal edit mirroring the upstream's recorded example, plus a mask where the upstream takes one."""

    recording: str
    images: int
    mask: bool
    options: dict[str, Any]
    outputs: int
    output_size: tuple[int, int]
    pil_format: str
    refusal_code: str
    extra: dict[str, Any] = field(default_factory=dict)


CASES = {
    "azure_openai": Case("azure_openai/edit_with_mask.json", 1, True,
                         {"n": 2, "size": "1024x1536", "quality": "high", "output_format": "jpeg",
                          "output_compression": 80, "moderation": "auto"}, 2, (1024, 1536), "JPEG",
                         "content_policy_violation"),
    "aiml": Case("aiml/edit_two_images.json", 2, True, {"n": 1, "output_format": "png"}, 1, (1024, 1024), "PNG",
                 "moderation_blocked"),
    "modelslab": Case("modelslab/processing_then_fetch.json", 2, False, {"size": "1536x1024"}, 1, (1536, 1024),
                      "PNG", "provider_safety_refusal"),
    "oxen": Case("oxen/queue_then_poll.json", 1, True, {"quality": "high", "output_format": "png"}, 1, (1536, 1024),
                 "PNG", "provider_safety_refusal", {"cost_micros": 200_000}),
    "runflow": Case("runflow/edit_sync_mode.json", 1, True, {"n": 2, "output_format": "png"}, 2, (1536, 1024), "PNG",
                    "content_policy_violation"),
    "fal": Case("fal/queue_submit_status_result.json", 1, True,
                {"size": "1024x1536", "quality": "medium", "output_format": "webp"}, 1, (1024, 1536), "WEBP",
                "content_policy_violation"),
}


@pytest.fixture(scope="module")
def presign() -> Iterator[S3Presigner]:
    moto = MotoServer(Console(quiet=True))
    moto.start()
    try:
        s3 = boto3.session.Session().client("s3", endpoint_url=moto.wait_ready(20), region_name="us-east-1",
                                            aws_access_key_id="testing", aws_secret_access_key="testing")
        s3.create_bucket(Bucket=BUCKET)
        yield S3Presigner(s3)
    finally:
        moto.stop()


@pytest.fixture(scope="module")
def stand_ins() -> Iterator[UpstreamStandIns]:
    # One "still running" answer per async job, as in the recordings.
    upstreams = UpstreamStandIns(delay=0, hang_seconds=5, api_key=KEY, pending_polls=1).start()
    try:
        yield upstreams
    finally:
        upstreams.stop()


def recorded_adapter(name: str, stand_ins: UpstreamStandIns, presign: S3Presigner,
                     key: str = KEY) -> tuple[Any, RecordingTransport]:
    transport = RecordingTransport()
    return adapter_for(stand_ins.by_name[name], key, presign, httpx.Client(transport=transport)), transport


def prompt(text: str) -> str:
    return f"{text} ({uuid.uuid4().hex[:10]})"


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_normal_edit_crosses_the_wire_as_recorded_and_async_upstreams_finish_after_polls(
    name: str, stand_ins: UpstreamStandIns, presign: S3Presigner
) -> None:
    case = CASES[name]
    adapter, transport = recorded_adapter(name, stand_ins, presign)
    text = prompt("Replace the sky with a sunset")

    submitted = adapter.submit(images=[input_image() for _ in range(case.images)],
                               mask=alpha_mask((640, 480)) if case.mask else None,
                               options={"prompt": text, **case.options})
    if name in ASYNC_UPSTREAMS:
        assert isinstance(submitted, Pending)
        submitted = Pending(PollHandle.from_json(submitted.handle.to_json()))  # as it rides on a queue message
        assert KEY not in str(submitted.handle.to_json())
    finished, polls = run_to_end(adapter, submitted)

    # Then real images come back, as asked, after one "still running" poll for async upstreams
    assert isinstance(finished, Finished)
    assert polls == (2 if name in ASYNC_UPSTREAMS else 0)
    assert finished.upstream == name
    pictures = [Image.open(io.BytesIO(image.data)) for image in finished.result.images]
    expected = [(case.pil_format, case.output_size)] * case.outputs
    assert [(picture.format, picture.size) for picture in pictures] == expected
    for key, value in case.extra.items():
        assert getattr(finished, key) == value
    (call,) = stand_ins.by_name[name].calls_for(text)
    assert (call.image_count, call.has_mask) == (case.images, case.mask)

    # And the exchanges match the provider's recorded example, step by step
    recorded = load(case.recording)["exchanges"]
    assert [(e.method, e.path, e.status) for e in transport.exchanges] == [
        (r["request"]["method"], normalised_path(httpx.URL(r["request"]["url"]).path), r["response"]["status"])
        for r in recorded]
    for sent, example in zip(transport.exchanges, recorded, strict=True):
        request = example["request"]
        if "json" in request:
            assert sent.request_fields - {"mask_url"} == set(request["json"]) - {"mask_url"}
        if "form" in request:
            assert sent.request_fields == set(request["form"])
            assert [part for part in sent.request_files if part != "mask"] == [
                part for part in request["files"] if part != "mask"]
        assert set(example["response"]["json"]) <= set(sent.response), "the stand-in answers every recorded field"


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_503_is_unavailable_and_retryable(name: str, stand_ins: UpstreamStandIns, presign: S3Presigner) -> None:
    adapter, _ = recorded_adapter(name, stand_ins, presign)
    with pytest.raises(ProviderUnavailable) as raised:
        adapter.submit(images=[input_image()], mask=None, options={"prompt": prompt("[fault:503]")})
    assert raised.value.code == "provider_error"
    assert not isinstance(raised.value, ProviderAuthFailed)


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_wrong_key_is_provider_auth_failed(name: str, stand_ins: UpstreamStandIns, presign: S3Presigner) -> None:
    adapter, transport = recorded_adapter(name, stand_ins, presign, key="a-wrong-key")
    with pytest.raises(ProviderAuthFailed) as raised:
        adapter.submit(images=[input_image()], mask=None, options={"prompt": prompt("a cat")})
    assert raised.value.code == "provider_auth_failed"
    assert "a-wrong-key" not in raised.value.message
    assert [exchange.status for exchange in transport.exchanges] == [401]


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_safety_refusal_is_refused_never_unavailable(
    name: str, stand_ins: UpstreamStandIns, presign: S3Presigner
) -> None:
    adapter, _ = recorded_adapter(name, stand_ins, presign)
    with pytest.raises(ProviderRefused) as raised:
        submitted = adapter.submit(images=[input_image()], mask=None, options={"prompt": prompt("[fault:safety]")})
        run_to_end(adapter, submitted)
    assert raised.value.code == CASES[name].refusal_code
