"""The OpenAI upstream's adapter against FakeProvider (its stand-in) over real loopback HTTP: images, and every fault
directive."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from PIL import Image

from local.stand_ins import FakeProvider
from retouch.providers.base import InputImage, ProviderRefused, ProviderResult, ProviderUnavailable
from retouch.providers.openai import openai_upstream
from retouch.providers.upstream import Finished


class Provider:
    """The OpenAI upstream's adapter called as the worker calls it (`submit`), answering a finished call's result."""

    def __init__(self, base_url: str, api_key: str, *, timeout_seconds: float) -> None:
        self.adapter = openai_upstream(api_key=api_key, timeout_seconds=timeout_seconds, base_url=base_url)

    def edit(self, *, images: list[InputImage], mask: InputImage | None, options: dict[str, Any]) -> ProviderResult:
        outcome = self.adapter.submit(images=images, mask=mask, options=options)
        assert isinstance(outcome, Finished)
        return outcome.result

    def generate(self, *, options: dict[str, Any]) -> ProviderResult:
        return self.edit(images=[], mask=None, options=options)


def encoded(size: tuple[int, int], mode: str = "RGB", colour: object = (30, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.fixture
def provider(fake_provider: FakeProvider) -> Provider:
    return Provider(fake_provider.base_url, "sk-local-test", timeout_seconds=10.0)


def png_input(size: tuple[int, int], name: str = "photo") -> InputImage:
    return InputImage(data=encoded(size), content_type="image/png", filename=name)


def test_edit_returns_real_images_of_the_requested_size_and_format(
    provider: Provider, fake_provider: FakeProvider, unique_prompt: Callable[[str], str]
) -> None:
    # Given two inputs and a mask with a transparent hole
    prompt = unique_prompt("put a red hat on the cat")
    mask = InputImage(data=encoded((640, 480), mode="RGBA", colour=(0, 0, 0, 0)), content_type="image/png")

    # When editing to two 1536x1024 WebP images
    result = provider.edit(
        images=[png_input((640, 480)), png_input((300, 300), "style")],
        mask=mask,
        options={
            "model": "gpt-image-2",
            "prompt": prompt,
            "n": 2,
            "size": "1536x1024",
            "output_format": "webp",
            "output_compression": 70,
            "quality": "auto",
            "background": None,
        },
    )

    # Then two real WebP images come back, and the fake saw image[] twice plus the mask
    assert [image.content_type for image in result.images] == ["image/webp", "image/webp"]
    pictures = [decoded(image.data) for image in result.images]
    assert {(p.format, p.size) for p in pictures} == {("WEBP", (1536, 1024))}
    assert result.images[0].data != result.images[1].data  # each of n differs
    assert (result.size, result.quality, result.output_format, result.background) == (
        "1536x1024",
        "medium",
        "webp",
        "opaque",
    )
    assert result.usage["total_tokens"] == result.usage["input_tokens"] + result.usage["output_tokens"]
    (call,) = fake_provider.calls_for(prompt)
    assert (call.endpoint, call.n, call.size, call.image_count, call.has_mask) == ("edits", 2, "1536x1024", 2, True)
    assert call.image_field_names == ("image[]", "image[]")


@pytest.mark.parametrize(
    ("input_size", "expected"),
    [((800, 500), (1536, 1024)), ((500, 800), (1024, 1536)), ((600, 600), (1024, 1024))],
)
def test_auto_size_follows_the_first_input_orientation(
    provider: Provider,
    unique_prompt: Callable[[str], str],
    input_size: tuple[int, int],
    expected: tuple[int, int],
) -> None:
    result = provider.edit(
        images=[png_input(input_size)], mask=None, options={"prompt": unique_prompt("auto size"), "size": "auto"}
    )
    assert decoded(result.images[0].data).size == expected
    assert result.size == f"{expected[0]}x{expected[1]}"


def test_transparent_background_gives_rgba_png(
    provider: Provider, unique_prompt: Callable[[str], str]
) -> None:
    result = provider.edit(
        images=[png_input((400, 400))],
        mask=None,
        options={"prompt": unique_prompt("cut out"), "background": "transparent", "size": "1024x1024"},
    )
    picture = decoded(result.images[0].data)
    assert (picture.format, picture.mode, result.images[0].content_type) == ("PNG", "RGBA", "image/png")
    assert picture.getpixel((0, 0))[3] == 0  # a corner is transparent
    assert result.background == "transparent"


def test_generate_returns_jpeg_at_4k(provider: Provider, unique_prompt: Callable[[str], str]) -> None:
    started = time.monotonic()
    result = provider.generate(
        options={
            "prompt": unique_prompt("a lighthouse at dusk"),
            "size": "3840x2160",
            "output_format": "jpeg",
            "output_compression": 80,
        }
    )
    picture = decoded(result.images[0].data)
    assert (picture.format, picture.size, result.images[0].content_type) == ("JPEG", (3840, 2160), "image/jpeg")
    assert time.monotonic() - started < 5


def test_generation_is_deterministic_per_prompt(
    provider: Provider, unique_prompt: Callable[[str], str]
) -> None:
    prompt = unique_prompt("same prompt twice")
    first = provider.generate(options={"prompt": prompt, "size": "256x256"})
    second = provider.generate(options={"prompt": prompt, "size": "256x256"})
    assert decoded(first.images[0].data).tobytes() == decoded(second.images[0].data).tobytes()


# -- Faults -------------------------------------------------------------------------------------


def test_500x2_fails_twice_then_succeeds(
    provider: Provider, fake_provider: FakeProvider, unique_prompt: Callable[[str], str]
) -> None:
    prompt = unique_prompt("[fault:500x2] retry me")
    for _ in range(2):
        with pytest.raises(ProviderUnavailable) as excinfo:
            provider.generate(options={"prompt": prompt, "size": "256x256"})
        assert excinfo.value.code == "provider_error"
    assert len(provider.generate(options={"prompt": prompt, "size": "256x256"}).images) == 1
    assert len(fake_provider.calls_for(prompt)) == 3


def test_500_without_count_always_fails(provider: Provider, unique_prompt: Callable[[str], str]) -> None:
    prompt = unique_prompt("[fault:500] broken")
    for _ in range(3):
        with pytest.raises(ProviderUnavailable):
            provider.generate(options={"prompt": prompt, "size": "256x256"})


def test_429x1_is_rate_limited_with_retry_after(
    provider: Provider, unique_prompt: Callable[[str], str]
) -> None:
    prompt = unique_prompt("[fault:429x1] busy")
    with pytest.raises(ProviderUnavailable) as excinfo:
        provider.edit(images=[png_input((64, 64))], mask=None, options={"prompt": prompt, "size": "256x256"})
    assert (excinfo.value.code, excinfo.value.retry_after) == ("provider_rate_limited", 1.0)
    assert provider.edit(images=[png_input((64, 64))], mask=None, options={"prompt": prompt, "size": "256x256"}).images


def test_timeoutx1_hangs_past_the_client_timeout_then_answers(
    fake_provider: FakeProvider, unique_prompt: Callable[[str], str]
) -> None:
    prompt = unique_prompt("[fault:timeoutx1] slow")
    impatient = Provider(fake_provider.base_url, "sk-local-test", timeout_seconds=0.5)
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable) as excinfo:
        impatient.generate(options={"prompt": prompt, "size": "256x256"})
    assert excinfo.value.code == "provider_timeout"
    assert time.monotonic() - started < 3
    assert impatient.generate(options={"prompt": prompt, "size": "256x256"}).images


@pytest.mark.parametrize(
    ("directive", "code"), [("safety", "moderation_blocked"), ("invalid_image", "invalid_image_format")]
)
def test_refusal_faults_are_permanent(
    provider: Provider, unique_prompt: Callable[[str], str], directive: str, code: str
) -> None:
    prompt = unique_prompt(f"[fault:{directive}] nope")
    for _ in range(2):
        with pytest.raises(ProviderRefused) as excinfo:
            provider.edit(images=[png_input((64, 64))], mask=None, options={"prompt": prompt})
        assert excinfo.value.code == code


def test_directives_chain_in_order(provider: Provider, unique_prompt: Callable[[str], str]) -> None:
    prompt = unique_prompt("[fault:500x1][fault:429x1] chained")
    codes = []
    for _ in range(2):
        with pytest.raises(ProviderUnavailable) as excinfo:
            provider.generate(options={"prompt": prompt, "size": "256x256"})
        codes.append(excinfo.value.code)
    assert codes == ["provider_error", "provider_rate_limited"]
    assert provider.generate(options={"prompt": prompt, "size": "256x256"}).images


def test_wrong_key_scheme_is_an_auth_failure(fake_provider: FakeProvider) -> None:
    client = httpx.Client(headers={})
    response = client.post(f"{fake_provider.base_url}/images/generations", json={"prompt": "x"})
    client.close()
    assert response.status_code == 401
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}


def test_invalid_parameters_are_refused(provider: Provider, unique_prompt: Callable[[str], str]) -> None:
    with pytest.raises(ProviderRefused) as excinfo:
        provider.generate(options={"prompt": unique_prompt("bad size"), "size": "1000x1000"})
    assert excinfo.value.code == "invalid_value"
    with pytest.raises(ProviderRefused):
        provider.edit(images=[InputImage(b"not an image", "image/png")], mask=None, options={"prompt": "x"})


def test_connection_refused_is_a_connection_error() -> None:
    nowhere = Provider("http://127.0.0.1:9/v1", "k", timeout_seconds=2)
    with pytest.raises(ProviderUnavailable) as excinfo:
        nowhere.generate(options={"prompt": "x"})
    assert excinfo.value.code == "provider_connection_error"
