"""FakeProvider's own HTTP surface: request parsing, validation, bookkeeping and the command line."""

from __future__ import annotations

import base64
import io
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from local.stand_ins import FakeProvider

AUTH = {"Authorization": "Bearer sk-local"}
PROJECT_ROOT = Path(__file__).resolve().parents[3]


def png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (90, 90, 200)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def test_plain_image_field_and_extra_fields_are_accepted(
    fake_provider: FakeProvider, http: httpx.Client, unique_prompt: Callable[[str], str]
) -> None:
    # Given a single `image` part (the SDK's form for one file) and fields the fake ignores
    prompt = unique_prompt("brighter")
    response = http.post(
        f"{fake_provider.base_url}/images/edits",
        headers=AUTH,
        files=[("image", ("a.png", png((100, 50)), "image/png"))],
        data={"prompt": prompt, "moderation": "low", "user": "u-1", "safety_identifier": "abc", "quality": "high"},
    )

    # Then a landscape PNG comes back in the OpenAI shape
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"created", "data", "usage", "size", "quality", "output_format", "background"}
    assert set(body["usage"]) >= {"total_tokens", "input_tokens", "output_tokens", "input_tokens_details"}
    assert (body["size"], body["quality"]) == ("1536x1024", "high")
    assert Image.open(io.BytesIO(base64.b64decode(body["data"][0]["b64_json"]))).size == (1536, 1024)
    (call,) = fake_provider.calls_for(prompt)
    assert call.fields["safety_identifier"] == "abc"


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"size": "1000x1000"}, "size"),  # not a multiple of 16
        ({"size": "3840x3840"}, "size"),  # too many pixels
        ({"size": "3072x512"}, "size"),  # wider than 3:1
        ({"size": "big"}, "size"),
        ({"n": "11"}, "n"),
        ({"n": "zero"}, "n"),
        ({"output_format": "gif"}, "output_format"),
        ({"output_compression": "101"}, "output_compression"),
        ({"quality": "ultra"}, "quality"),
        ({"background": "transparent", "output_format": "jpeg"}, "background"),
        ({"prompt": ""}, "prompt"),
        ({"prompt": "x" * 32_001}, "prompt"),
    ],
)
def test_invalid_generation_parameters_are_400(
    fake_provider: FakeProvider, http: httpx.Client, fields: dict[str, str], param: str
) -> None:
    response = http.post(f"{fake_provider.base_url}/images/generations", headers=AUTH, json={"prompt": "p", **fields})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


def test_edit_without_images_is_400(fake_provider: FakeProvider, http: httpx.Client) -> None:
    response = http.post(f"{fake_provider.base_url}/images/edits", headers=AUTH, files={"prompt": (None, "p")})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "missing_required_parameter"


def test_unknown_path_is_404_and_health_is_200(fake_provider: FakeProvider, http: httpx.Client) -> None:
    assert http.post(f"{fake_provider.base_url}/images/variations", headers=AUTH).status_code == 404
    assert http.get(f"{fake_provider.base_url}/health").json() == {"status": "ok"}


def test_4k_png_is_drawn_quickly(
    fake_provider: FakeProvider, http: httpx.Client, unique_prompt: Callable[[str], str]
) -> None:
    started = time.monotonic()
    response = http.post(
        f"{fake_provider.base_url}/images/edits",
        headers=AUTH,
        files=[
            ("image[]", ("a.png", png((1920, 1080)), "image/png")),
            ("image[]", ("b.png", png((300, 300)), "image/png")),
        ],
        data={"prompt": unique_prompt("4k"), "size": "3840x2160"},
    )
    assert response.status_code == 200
    assert time.monotonic() - started < 3


def test_reset_forgets_calls_and_fault_counters(fake_provider: FakeProvider, http: httpx.Client) -> None:
    # Given a private fake so resetting does not disturb other tests' bookkeeping
    with FakeProvider(delay=0) as fake:
        prompt = "[fault:500x1] reset me"
        url = f"{fake.base_url}/images/generations"
        assert http.post(url, headers=AUTH, json={"prompt": prompt, "size": "256x256"}).status_code == 500
        assert http.post(url, headers=AUTH, json={"prompt": prompt, "size": "256x256"}).status_code == 200

        fake.reset()

        assert fake.calls == []
        assert http.post(url, headers=AUTH, json={"prompt": prompt, "size": "256x256"}).status_code == 500


def test_delay_is_applied_before_answering(http: httpx.Client) -> None:
    with FakeProvider(delay=0.3) as fake:
        started = time.monotonic()
        response = http.post(
            f"{fake.base_url}/images/generations", headers=AUTH, json={"prompt": "p", "size": "256x256"}
        )
        assert response.status_code == 200
        assert time.monotonic() - started >= 0.3


def test_stop_releases_a_hanging_request() -> None:
    fake = FakeProvider(delay=0, hang_seconds=30).start()
    with httpx.Client(timeout=0.2) as client, pytest.raises(httpx.ReadTimeout):
        client.post(f"{fake.base_url}/images/generations", headers=AUTH, json={"prompt": "[fault:timeout]"})
    started = time.monotonic()
    fake.stop()
    assert time.monotonic() - started < 2


def test_runs_from_the_command_line() -> None:
    # Given `python -m local.stand_ins` on a free port
    process = subprocess.Popen(
        [sys.executable, "-m", "local.stand_ins", "--port", "0", "--delay", "0"],
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        base_url = line.strip().rsplit("base_url=", 1)[1]

        # When asked for an image / Then it answers
        response = httpx.post(
            f"{base_url}/images/generations", headers=AUTH, json={"prompt": "cli", "size": "256x256"}, timeout=10
        )
        assert response.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=5)
