"""The official openai SDK against FakeProvider: the fake must be a faithful stand-in for the real API."""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Callable

import openai
import pytest
from openai import OpenAI
from PIL import Image

from local.stand_ins import FakeProvider


def png(size: tuple[int, int], mode: str = "RGB", colour: object = (200, 80, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def decoded(b64: str | None) -> Image.Image:
    assert b64 is not None
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    image.load()
    return image


@pytest.fixture
def sdk(fake_provider: FakeProvider) -> OpenAI:
    return OpenAI(base_url=fake_provider.base_url, api_key="x", max_retries=0, timeout=10)


def test_sdk_edit_with_two_images_sends_image_array_and_gets_images_back(
    sdk: OpenAI, fake_provider: FakeProvider, unique_prompt: Callable[[str], str]
) -> None:
    # Given two input files
    prompt = unique_prompt("combine the cat and the hat")
    first = ("cat.png", png((900, 600)), "image/png")
    second = ("hat.png", png((200, 200), colour=(10, 200, 10)), "image/png")

    # When the SDK edits them
    response = sdk.images.edit(model="gpt-image-2", image=[first, second], prompt=prompt, size="1024x1024", n=2)

    # Then the response parses as the SDK's ImagesResponse with real 1024x1024 PNGs
    assert response.data is not None and len(response.data) == 2
    assert {(decoded(item.b64_json).format, decoded(item.b64_json).size) for item in response.data} == {
        ("PNG", (1024, 1024))
    }
    assert (response.size, response.quality, response.output_format, response.background) == (
        "1024x1024",
        "medium",
        "png",
        "opaque",
    )
    assert response.usage is not None and response.usage.input_tokens_details.image_tokens > 0
    (call,) = fake_provider.calls_for(prompt)
    assert call.image_field_names == ("image[]", "image[]")
    assert (call.image_count, call.has_mask, call.n, call.fields["model"]) == (2, False, 2, "gpt-image-2")


def test_sdk_edit_with_a_single_image_and_mask(
    sdk: OpenAI, fake_provider: FakeProvider, unique_prompt: Callable[[str], str]
) -> None:
    prompt = unique_prompt("fill the hole with flowers")
    response = sdk.images.edit(
        model="gpt-image-2",
        image=("room.png", png((512, 768)), "image/png"),
        mask=("mask.png", png((512, 768), mode="RGBA", colour=(0, 0, 0, 0)), "image/png"),
        prompt=prompt,
        output_format="jpeg",
        output_compression=60,
    )
    assert response.data is not None
    picture = decoded(response.data[0].b64_json)
    assert (picture.format, picture.size) == ("JPEG", (1024, 1536))
    (call,) = fake_provider.calls_for(prompt)
    assert call.image_field_names == ("image",) and call.has_mask


def test_sdk_generate(sdk: OpenAI, unique_prompt: Callable[[str], str]) -> None:
    response = sdk.images.generate(
        model="gpt-image-2",
        prompt=unique_prompt("a red fox"),
        size="1536x1024",
        output_format="webp",
        background="transparent",
    )
    assert response.data is not None
    picture = decoded(response.data[0].b64_json)
    assert (picture.format, picture.size, picture.mode) == ("WEBP", (1536, 1024), "RGBA")


@pytest.mark.parametrize(
    ("directive", "error_type", "status", "code"),
    [
        ("safety", openai.BadRequestError, 400, "moderation_blocked"),
        ("invalid_image", openai.BadRequestError, 400, "invalid_image_format"),
        ("500", openai.InternalServerError, 500, None),
        ("429x1", openai.RateLimitError, 429, "rate_limit_exceeded"),
    ],
)
def test_sdk_sees_openai_shaped_errors(
    sdk: OpenAI,
    unique_prompt: Callable[[str], str],
    directive: str,
    error_type: type[openai.APIStatusError],
    status: int,
    code: str | None,
) -> None:
    with pytest.raises(error_type) as excinfo:
        sdk.images.generate(model="gpt-image-2", prompt=unique_prompt(f"[fault:{directive}] x"), size="256x256")
    assert excinfo.value.status_code == status
    assert excinfo.value.code == code
    if status == 429:
        assert excinfo.value.response.headers["retry-after"] == "1"


def test_sdk_retries_through_transient_faults(fake_provider: FakeProvider, unique_prompt: Callable[[str], str]) -> None:
    # Given a prompt that fails twice with 500, and the SDK's default retry policy
    prompt = unique_prompt("[fault:500x2] eventually")
    sdk = OpenAI(base_url=fake_provider.base_url, api_key="x", max_retries=2, timeout=10)

    # When / Then the SDK's own retries get through on the third call
    response = sdk.images.generate(model="gpt-image-2", prompt=prompt, size="256x256")
    assert response.data is not None and len(response.data) == 1
    assert len(fake_provider.calls_for(prompt)) == 3


def test_sdk_times_out_on_a_hang(fake_provider: FakeProvider, unique_prompt: Callable[[str], str]) -> None:
    sdk = OpenAI(base_url=fake_provider.base_url, api_key="x", max_retries=0, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        sdk.images.generate(model="gpt-image-2", prompt=unique_prompt("[fault:timeoutx1] hang"), size="256x256")
    assert time.monotonic() - started < 3
