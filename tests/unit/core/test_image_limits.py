"""Input-image size caps (jobs/inputs) with small custom ModelLimits, so no test allocates 50 MB."""

from __future__ import annotations

import pytest

from retouch.catalog import MB, ModelLimits
from retouch.errors import InvalidImage
from retouch.images.inspect import inspect_image
from retouch.jobs.inputs import check_image, check_mask
from tests.unit.core.builders import image_bytes, mask_png, png

IMAGE = png(96, 64)
MASK = mask_png(96, 64)


def test_image_exactly_at_the_byte_cap_is_accepted() -> None:
    # Given limits whose image cap is exactly this image's size
    limits = ModelLimits(max_image_bytes=len(IMAGE))

    # When the image is checked
    checked = check_image(IMAGE, limits, "image[0]")

    # Then it passes with its dimensions read from the header
    assert (checked.info.format, checked.info.width, checked.info.height) == ("png", 96, 64)
    assert checked.extension == "png"


def test_image_one_byte_over_the_cap_is_refused() -> None:
    # Given limits one byte below this image's size
    limits = ModelLimits(max_image_bytes=len(IMAGE) - 1)

    # When the image is checked
    with pytest.raises(InvalidImage) as caught:
        check_image(IMAGE, limits, "image[3]")

    # Then it is refused naming the image
    assert (caught.value.status_code, caught.value.code, caught.value.param) == (400, "invalid_image", "image[3]")


def test_default_cap_message_names_50_mb() -> None:
    # Given gpt-image-2's default limits and a body just over them (never allocated: only its length matters)
    class Oversized(bytes):
        def __len__(self) -> int:
            return 50 * MB + 1

    # When it is checked
    with pytest.raises(InvalidImage) as caught:
        check_image(Oversized(IMAGE), ModelLimits(), "image[0]")

    # Then the message states the cap
    assert "50 MB" in caught.value.message


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_accepted_formats(fmt: str) -> None:
    # Given an image in each accepted format
    data = image_bytes(fmt, 20, 30)

    # When it is checked
    checked = check_image(data, ModelLimits(), "image[0]")

    # Then the format comes from the content, with the matching extension
    assert checked.info.format == fmt
    assert checked.extension == {"png": "png", "jpeg": "jpg", "webp": "webp"}[fmt]


def test_format_list_is_taken_from_the_limits() -> None:
    # Given a model limited to PNG
    limits = ModelLimits(image_formats=("png",))

    # When a JPEG is checked
    with pytest.raises(InvalidImage) as caught:
        check_image(image_bytes("jpeg", 20, 20), limits, "image[0]")

    # Then it is refused as a format problem
    assert caught.value.code == "invalid_image_format"


def test_mask_at_its_cap_is_accepted_and_over_it_refused() -> None:
    # Given limits whose mask cap is exactly this mask's size, and one a byte smaller
    first = inspect_image(IMAGE)
    at_cap, under_cap = ModelLimits(max_mask_bytes=len(MASK)), ModelLimits(max_mask_bytes=len(MASK) - 1)

    # When the mask is checked against each
    accepted = check_mask(MASK, first, at_cap)
    with pytest.raises(InvalidImage) as caught:
        check_mask(MASK, first, under_cap)

    # Then the first passes and the second is refused naming the mask
    assert accepted.info.has_alpha
    assert (caught.value.code, caught.value.param) == ("invalid_mask", "mask")


def test_mask_without_a_first_image_only_needs_alpha() -> None:
    # Given a mask whose images are all URLs (no first image known at submit time)
    # When it is checked
    checked = check_mask(MASK, None, ModelLimits())

    # Then its dimensions are not compared
    assert (checked.info.width, checked.info.height) == (96, 64)


def test_png_with_transparency_chunk_counts_as_alpha() -> None:
    # Given a palette PNG whose transparency comes from a tRNS chunk
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("P", (96, 64), 0).save(buffer, format="PNG", transparency=0)

    # When it is checked as a mask
    checked = check_mask(buffer.getvalue(), inspect_image(IMAGE), ModelLimits())

    # Then it is accepted
    assert checked.info.has_alpha
