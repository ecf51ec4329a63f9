"""sniff_format reads magic bytes; inspect_image reads headers through Pillow."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from retouch.images.inspect import (
    CONTENT_TYPES,
    HEADER_READS,
    ImageInfo,
    UnreadableImage,
    inspect_header,
    inspect_image,
    read_header,
    sniff_format,
)


def encode(mode: str, size: tuple[int, int], fmt: str, **save: object) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, fmt, **save)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 8, "png"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 8, "jpeg"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "webp"),
        (b"GIF89a" + b"\0" * 8, None),
        (b"RIFF\x10\x00\x00\x00WAVEfmt ", None),
        (b"<svg xmlns=", None),
        (b"", None),
        (b"\x89PN", None),
    ],
)
def test_sniff_format_reads_magic_bytes(data: bytes, expected: str | None) -> None:
    # Given leading bytes / When sniffed / Then only PNG, JPEG and WebP are recognised
    assert sniff_format(data) == expected


@pytest.mark.parametrize(
    ("mode", "fmt", "save", "expected_format", "expected_alpha"),
    [
        ("RGB", "PNG", {}, "png", False),
        ("RGBA", "PNG", {}, "png", True),
        ("LA", "PNG", {}, "png", True),
        ("L", "PNG", {}, "png", False),
        ("RGB", "JPEG", {}, "jpeg", False),
        ("RGB", "WEBP", {}, "webp", False),
        ("RGBA", "WEBP", {}, "webp", True),
    ],
)
def test_inspect_image_reports_format_size_and_alpha(
    mode: str, fmt: str, save: dict[str, object], expected_format: str, expected_alpha: bool
) -> None:
    # Given an encoded image
    data = encode(mode, (33, 17), fmt, **save)

    # When inspected
    info = inspect_image(data)

    # Then the header facts come back
    assert info == ImageInfo(
        format=expected_format,
        content_type=CONTENT_TYPES[expected_format],
        width=33,
        height=17,
        has_alpha=expected_alpha,
    )


def test_palette_png_with_trns_chunk_has_alpha() -> None:
    # Given a palette PNG whose tRNS chunk makes colour 0 transparent
    data = encode("P", (8, 8), "PNG", transparency=0)

    # When / Then
    assert inspect_image(data).has_alpha is True


def test_rgb_png_with_trns_chunk_has_alpha() -> None:
    data = encode("RGB", (8, 8), "PNG", transparency=(0, 0, 0))
    assert inspect_image(data).has_alpha is True


def test_palette_png_without_trns_has_no_alpha() -> None:
    data = encode("P", (8, 8), "PNG")
    assert inspect_image(data).has_alpha is False


@pytest.mark.parametrize(
    "data",
    [
        b"not an image at all",
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00",
        b"\x89PNG\r\n\x1a\n" + b"garbage" * 4,
        b"\xff\xd8\xff",
        b"RIFF\x04\x00\x00\x00WEBP",
    ],
)
def test_unreadable_or_unsupported_data_raises_invalid_image(data: bytes) -> None:
    # When / Then
    with pytest.raises(UnreadableImage) as excinfo:
        inspect_image(data)
    assert excinfo.value.message


def test_gif_is_refused_even_though_pillow_reads_it() -> None:
    data = encode("P", (4, 4), "GIF")
    with pytest.raises(UnreadableImage):
        inspect_image(data)


def test_inspect_reads_only_the_header() -> None:
    # Given a PNG whose pixel data is cut short (header intact)
    data = encode("RGB", (640, 480), "PNG")
    truncated = data[: len(data) // 2]

    # When inspected / Then the header is enough
    info = inspect_image(truncated)
    assert (info.width, info.height) == (640, 480)


def test_module_import_does_not_pull_in_pillow() -> None:
    # Given a fresh interpreter / When the module is imported / Then PIL stays unloaded
    import os
    import subprocess
    import sys
    from pathlib import Path

    import retouch

    env = {**os.environ, "PYTHONPATH": str(Path(retouch.__file__).resolve().parents[1])}
    code = "import sys, retouch.images.inspect; print('PIL' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert result.stdout.strip() == "False"


# -- From the first bytes only (large uploads, read with ranged GETs) -------------------------------


def noisy(mode: str, size: tuple[int, int], fmt: str, **save: object) -> bytes:
    """An image that does not compress, so its header is a sliver of the file."""
    import os

    buffer = io.BytesIO()
    Image.frombytes(mode, size, os.urandom(size[0] * size[1] * len(mode))).save(buffer, fmt, **save)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("mode", "save", "alpha", "chunk"),
    [
        ("RGB", {"quality": 90}, False, b"VP8 "),
        ("RGB", {"lossless": True}, False, b"VP8L"),
        ("RGBA", {"lossless": True}, True, b"VP8L"),
        ("RGBA", {"quality": 90}, True, b"VP8X"),
    ],
)
def test_webp_header_is_read_from_its_first_chunk(mode: str, save: dict[str, object], alpha: bool,
                                                  chunk: bytes) -> None:
    # Given a WebP of each kind (lossy, lossless, extended), cut to its first 64 bytes
    data = noisy(mode, (301, 203), "WEBP", **save)
    assert data[12:16] == chunk

    # When its header is inspected
    info = inspect_header(data[:64])

    # Then the size and alpha are those of the whole file (which Pillow could not open from 64 bytes)
    assert (info.format, info.width, info.height, info.has_alpha) == ("webp", 301, 203, alpha)
    with pytest.raises(UnreadableImage):
        inspect_image(data[:64])


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_png_and_jpeg_headers_are_read_from_a_prefix(fmt: str) -> None:
    data = noisy("RGB", (640, 480), fmt)
    info = inspect_header(data[:4096])
    assert (info.width, info.height) == (640, 480)


@pytest.mark.parametrize("prefix", [b"RIFF\x10\x00\x00\x00WEBPVP8 \x00", b"RIFF\x10\x00\x00\x00WEBPJUNK" + b"\0" * 30])
def test_a_webp_prefix_without_a_known_first_chunk_is_unreadable(prefix: bytes) -> None:
    with pytest.raises(UnreadableImage):
        inspect_header(prefix)


def test_read_header_stops_at_the_first_step_that_holds_the_header() -> None:
    # Given a 1.2 MB image whose header is in its first bytes
    data = noisy("RGB", (640, 640), "PNG")
    reads: list[int] = []

    def read_prefix(length: int) -> bytes:
        reads.append(length)
        return data[:length]

    # When its header is read
    prefix = read_header(read_prefix, len(data))

    # Then one ranged read sufficed
    assert reads == [HEADER_READS[0]] and prefix == data[:HEADER_READS[0]]


def test_read_header_gives_up_after_its_last_step_and_never_reads_past_the_file() -> None:
    # Given bytes that look like a PNG but never hold a readable header
    data = b"\x89PNG\r\n\x1a\n" + b"\0" * (2 * 1024 * 1024)
    reads: list[int] = []

    def read_prefix(length: int) -> bytes:
        reads.append(length)
        return data[:length]

    # When its header is read
    read_header(read_prefix, len(data))

    # Then every step was tried, the last one capped at the file's size
    assert reads == [HEADER_READS[0], HEADER_READS[1], len(data)]


def test_whole_decodes_run_one_at_a_time_so_a_batch_of_jobs_stays_within_memory(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a decode that notes how many run at once, and four threads decoding (a worker's batch)
    import threading
    import time

    from retouch.images import inspect

    running, most = [0], [0]
    guard = threading.Lock()

    def decode_whole(data: object, info: object) -> None:
        with guard:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.02)
        with guard:
            running[0] -= 1

    monkeypatch.setattr(inspect, "_decode_whole", decode_whole)
    png = encode("RGB", (8, 8), "PNG")
    threads = [threading.Thread(target=inspect.decode_image, args=(png,), kwargs={"max_pixels": 100})
               for _ in range(4)]

    # When they all decode at once
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    # Then no two decodes overlapped
    assert most[0] == 1 and not any(thread.is_alive() for thread in threads)
