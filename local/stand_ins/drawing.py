"""Real images drawn by Pillow, so a person can see what a stand-in was asked for.

An edit is the first input fitted to the canvas, colour-graded from the prompt, with the mask's transparent area
tinted, further inputs pasted as inset thumbnails and the prompt as a caption; a generation is a gradient seeded
from the prompt, plus the caption. Nothing here knows a provider's wire format.
"""

from __future__ import annotations

import colorsys
import functools
import hashlib
import io
import random
import textwrap
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont, ImageOps

# Pillow's format names, by the names the images APIs use.
FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}

Box = tuple[int, int, int, int]


class UnreadableImage(ValueError):
    """Pillow could not read an input as PNG, JPEG or WebP."""


@dataclass(frozen=True)
class Canvas:
    """What to draw: the outputs' size, background and encoding."""

    size: tuple[int, int]
    transparent: bool
    output_format: str  # a key of FORMATS
    compression: int | None


def open_image(data: bytes) -> Image.Image:
    try:
        img = Image.open(io.BytesIO(data), formats=list(FORMATS.values()))
        img = ImageOps.exif_transpose(img) if img.format == "JPEG" else img
        img.load()
    except Exception as exc:
        raise UnreadableImage(str(exc)) from exc
    return img


def auto_size(first_input: tuple[int, int] | None) -> tuple[int, int]:
    """What `auto` resolves to: the orientation of the first input (square without one)."""
    if first_input is not None:
        width, height = first_input
        if width > height * 1.1:
            return 1536, 1024
        if height > width * 1.1:
            return 1024, 1536
    return 1024, 1024


def draw_outputs(
    prompt: str, images: list[Image.Image], mask: Image.Image | None, canvas: Canvas, count: int
) -> list[bytes]:
    """`count` encoded images: edits of `images` when there are any, generations otherwise."""
    outputs = []
    for index in range(count):
        overlays: list[Box] = []
        if images:
            picture = _draw_edit(images, mask, prompt, canvas.size, index, overlays)
        else:
            picture = _draw_generation(prompt, canvas.size, index)
        _draw_caption(picture, prompt, index, count, overlays)
        if canvas.transparent:
            picture.putalpha(_subject_alpha(picture.size, overlays))
        outputs.append(_encode(picture, canvas.output_format, canvas.compression))
    return outputs


def _prompt_colour(prompt: str, index: int, shift: float = 0.0) -> tuple[int, int, int]:
    digest = hashlib.sha256(prompt.encode("utf-8")).digest()
    hue = (digest[0] / 255 + shift + index * 0.07) % 1.0
    red, green, blue = colorsys.hsv_to_rgb(hue, 0.55 + digest[1] / 255 * 0.35, 0.85)
    return int(red * 255), int(green * 255), int(blue * 255)


def _margin(size: tuple[int, int]) -> int:
    """Distance of overlays from the edges; also the transparent rim of a transparent background."""
    return max(6, min(size) // 24)


def _fit(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Scale and centre-crop `img` to fill `size`."""
    src_w, src_h = img.size
    width, height = size
    scale = max(width / src_w, height / src_h)
    crop_w, crop_h = width / scale, height / scale
    left, top = (src_w - crop_w) / 2, (src_h - crop_h) / 2
    box = (left, top, left + crop_w, top + crop_h)
    return img.resize(size, Image.Resampling.BILINEAR, box=box, reducing_gap=2.0)


def _draw_edit(
    images: list[Image.Image],
    mask: Image.Image | None,
    prompt: str,
    size: tuple[int, int],
    index: int,
    overlays: list[Box],
) -> Image.Image:
    width, height = size
    first = images[0] if images[0].mode == "RGB" else images[0].convert("RGB")
    canvas = _fit(first, size)
    # The "edit": a colour grade from the prompt, a little different for each of the n outputs.
    canvas = Image.blend(canvas, Image.new("RGB", size, _prompt_colour(prompt, index)), 0.18)

    if mask is not None:
        if "A" not in mask.getbands() and "transparency" in mask.info:
            mask = mask.convert("RGBA")
        if "A" in mask.getbands():
            region = _fit(mask.getchannel("A"), size).point(lambda value: 255 if value < 128 else 0)
            box = region.getbbox()
            if box is not None:  # blend only the masked rectangle: cheap on large canvases
                part = canvas.crop(box)
                tint = Image.blend(part, Image.new("RGB", part.size, _prompt_colour(prompt, index, 0.5)), 0.55)
                canvas.paste(tint, box[:2], region.crop(box))

    # Further inputs: framed thumbnails in columns from the top-right corner.
    margin = _margin(size)
    thumb_edge = max(16, min(width, height) // 4)
    border = max(2, thumb_edge // 60)
    x, y = width - margin - thumb_edge, margin
    for extra in images[1:]:
        thumb = extra.convert("RGB") if extra.mode != "RGB" else extra.copy()
        thumb.thumbnail((thumb_edge, thumb_edge), Image.Resampling.BILINEAR, reducing_gap=2.0)
        framed = ImageOps.expand(thumb, border=border, fill=(255, 255, 255))
        if y + framed.height > height - margin - max(24, height // 7):
            x, y = x - thumb_edge - margin, margin
        if x < margin:
            break
        canvas.paste(framed, (x, y))
        overlays.append((x, y, x + framed.width, y + framed.height))
        y += framed.height + margin // 2
    return canvas


def _draw_generation(prompt: str, size: tuple[int, int], index: int) -> Image.Image:
    width, height = size
    seed = int.from_bytes(hashlib.sha256(prompt.encode("utf-8")).digest()[:8], "big")
    angle = seed % 360 + index * 20
    # Rotate a small gradient and keep its centre, which the rotation always covers; then upscale.
    gradient = Image.linear_gradient("L").rotate(angle, resample=Image.Resampling.BILINEAR)
    gradient = gradient.crop((40, 40, 216, 216)).resize(size, Image.Resampling.BILINEAR)
    canvas = ImageOps.colorize(gradient, _prompt_colour(prompt, 0), _prompt_colour(prompt, 0, 0.4))
    draw = ImageDraw.Draw(canvas)
    rng = random.Random(seed + index)
    unit = min(width, height)
    for shape in range(6):
        radius = int(unit * rng.uniform(0.05, 0.18))
        cx, cy = rng.randrange(width), rng.randrange(height)
        draw.ellipse(
            (cx - radius, cy - radius, cx + radius, cy + radius),
            fill=_prompt_colour(prompt, index, 0.15 * shape),
            outline=(255, 255, 255),
            width=max(1, unit // 300),
        )
    return canvas


@functools.lru_cache(maxsize=32)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError, OSError):  # no FreeType: the small bitmap font
        return ImageFont.load_default()


def _draw_caption(canvas: Image.Image, prompt: str, index: int, count: int, overlays: list[Box]) -> None:
    """The prompt on a dark lower-third band, and an "i/n" badge in the top-left corner."""
    width, height = canvas.size
    margin = _margin(canvas.size)
    band_h = max(24, height // 7)
    band_box = (margin, height - margin - band_h, width - margin, height - margin)
    band = canvas.crop(band_box)
    canvas.paste(Image.blend(band, Image.new(canvas.mode, band.size, (0, 0, 0)), 0.6), band_box[:2])
    overlays.append(band_box)

    draw = ImageDraw.Draw(canvas)
    font_size = max(10, band_h // 3)
    font = _font(font_size)
    text_x = margin + max(4, font_size // 2)
    chars_per_line = max(8, int((width - 2 * text_x) / (font_size * 0.55)))
    lines = textwrap.wrap(" ".join(prompt.split()), width=chars_per_line, max_lines=2, placeholder=" …") or [""]
    line_h = int(font_size * 1.2)
    top = band_box[1] + max(2, (band_h - line_h * len(lines)) // 2)
    for number, line in enumerate(lines):
        draw.text((text_x, top + number * line_h), line, fill=(255, 255, 255), font=font)

    badge_font = _font(max(10, font_size // 2))
    pad = max(3, font_size // 6)
    left, top_, right, bottom = draw.textbbox((margin + pad, margin + pad), f"{index + 1}/{count}", font=badge_font)
    badge_box = (left - pad, top_ - pad, right + pad, bottom + pad)
    draw.rectangle(badge_box, fill=(0, 0, 0))
    draw.text((margin + pad, margin + pad), f"{index + 1}/{count}", fill=(255, 255, 255), font=badge_font)
    overlays.append(badge_box)


def _subject_alpha(size: tuple[int, int], overlays: list[Box]) -> Image.Image:
    """An opaque ellipse plus the overlays on a transparent background."""
    width, height = size
    inset = _margin(size) // 2
    alpha = Image.new("L", size, 0)
    draw = ImageDraw.Draw(alpha)
    draw.ellipse((inset, inset, width - inset, height - inset), fill=255)
    for box in overlays:
        draw.rectangle(box, fill=255)
    return alpha


def _encode(canvas: Image.Image, output_format: str, compression: int | None) -> bytes:
    buffer = io.BytesIO()
    if output_format == "png":
        canvas.save(buffer, "PNG", compress_level=1)
    elif output_format == "jpeg":
        canvas.convert("RGB").save(buffer, "JPEG", quality=max(1, min(compression or 90, 100)))
    else:
        canvas.save(buffer, "WEBP", quality=max(0, min(compression if compression is not None else 80, 100)), method=0)
    return buffer.getvalue()
