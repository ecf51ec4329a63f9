"""Input-image size caps (images/input_checks) with small custom ModelLimits, so no test allocates 50 MB."""

from __future__ import annotations

import pytest

from retouch.catalog import MB, ModelLimits
from retouch.errors import InvalidImage
from retouch.images.input_checks import check_image, check_mask
from retouch.images.inspect import inspect_image
from tests.builders import image_bytes, mask_png, png

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


# -- Pixel limit and complete decoding -----------------------------------------------------------------------


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header says width x height, followed by a few bytes of (garbage) image data and an end chunk:
    anything that decoded it would fail with "corrupt", so a pixel-limit refusal proves nothing was decoded."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + \
        chunk(b"IEND", b"")


# Pillow warns about any header over its own 89 MP guard as it opens it; the refusal is what this test checks.
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_144_megapixel_png_is_refused_from_its_header_before_any_decoding() -> None:
    # Given a PNG announcing 12,000 x 12,000 pixels (144 MP), under the default limits
    data = _png_claiming(12_000, 12_000)

    # When it is checked
    with pytest.raises(InvalidImage) as caught:
        check_image(data, ModelLimits(), "image[0]")

    # Then it is refused for its pixel count (not as corrupt: its pixels were never decoded)
    assert (caught.value.code, caught.value.param) == ("image_too_large", "image[0]")
    assert "50,000,000" in caught.value.message


def test_an_image_at_the_pixel_limit_is_accepted_and_one_pixel_wider_refused() -> None:
    limits = ModelLimits(max_image_pixels=96 * 64)
    assert check_image(png(96, 64), limits, "image[0]").info.width == 96
    with pytest.raises(InvalidImage) as caught:
        check_image(png(97, 64), limits, "image[0]")
    assert caught.value.code == "image_too_large"


def test_the_mask_has_the_same_pixel_limit() -> None:
    with pytest.raises(InvalidImage) as caught:
        check_mask(MASK, None, ModelLimits(max_image_pixels=96 * 64 - 1))
    assert (caught.value.code, caught.value.param) == ("image_too_large", "mask")


@pytest.mark.parametrize(("fmt", "cut"), [
    pytest.param("png", 12, id="png-without-its-end-chunk"),
    pytest.param("png", 200, id="png-cut-in-its-pixels"),
    pytest.param("jpeg", 40, id="jpeg-cut-short"),
])
def test_a_truncated_image_is_refused_where_its_bytes_are_checked(fmt: str, cut: int) -> None:
    # Given a real image with its last bytes missing (the header still reads fine)
    from tests.builders import noisy_image

    whole = noisy_image(fmt)
    truncated = whole[:-cut]
    assert inspect_image(truncated).width == inspect_image(whole).width

    # When it is checked
    with pytest.raises(InvalidImage) as caught:
        check_image(truncated, ModelLimits(), "image[1]")

    # Then it is refused here, not later at the provider
    assert (caught.value.code, caught.value.param) == ("invalid_image", "image[1]")
    assert "could not be read: image data is truncated or corrupt" in caught.value.message
    check_image(whole, ModelLimits(), "image[1]")  # and the whole image passes


def test_a_truncated_webp_is_refused_too() -> None:
    from tests.builders import noisy_image

    with pytest.raises(InvalidImage) as caught:
        check_image(noisy_image("webp")[:-40], ModelLimits(), "image[0]")
    assert caught.value.code == "invalid_image"


def test_a_truncated_mask_is_an_invalid_mask() -> None:
    with pytest.raises(InvalidImage) as caught:
        check_mask(MASK[:-12], None, ModelLimits())
    assert (caught.value.code, caught.value.param) == ("invalid_mask", "mask")
