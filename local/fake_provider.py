"""A stand-in for the OpenAI images API on loopback, for local runs and tests.

It answers `POST /v1/images/edits` (multipart) and `POST /v1/images/generations` (JSON) with
real images drawn by Pillow at the requested size and format, so a person can see what
happened: an edit is the first input fitted to the canvas, colour-graded from the prompt,
with the mask's transparent area tinted, further inputs pasted as inset thumbnails and the
prompt as a caption; a generation is a gradient seeded from the prompt, plus the caption.

Faults are asked for inside the prompt, so concurrent tests do not interfere:

    [fault:500x2]          the first 2 calls with this exact prompt get HTTP 500, later ones succeed
    [fault:429x1]          ... HTTP 429 with `Retry-After: 1`
    [fault:timeoutx1]      ... hang `hang_seconds` first (past the worker's provider timeout), then answer
    [fault:slowx1]         ... take `slow_seconds` longer first (within the provider timeout), then answer
    [fault:safety]         always HTTP 400, code `moderation_blocked`
    [fault:invalid_image]  always HTTP 400, code `invalid_image_format`
    [fault:500]            always HTTP 500 (any kind without `xN` applies to every call)

Several directives apply in order: `[fault:500x1][fault:429x1]` fails the first call with 500,
the second with 429, and lets the third through. Calls are counted per full prompt text.

    python -m local.fake_provider --port 8090 --delay 1
"""

from __future__ import annotations

import argparse
import base64
import colorsys
import functools
import hashlib
import io
import json
import math
import random
import re
import signal
import sys
import textwrap
import threading
import time
import traceback
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image, ImageDraw, ImageFont, ImageOps

from retouch.errors import InvalidRequest
from retouch.web.multipart import parse_multipart

MAX_BODY_BYTES = 512 * 1024 * 1024
MAX_PROMPT_CHARS = 32_000
MAX_INPUT_IMAGES = 16
MAX_EDGE = 3840
MAX_PIXELS = 3840 * 2160
FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
QUALITIES = frozenset({"low", "medium", "high", "xhigh", "max", "auto", "standard"})
BACKGROUNDS = frozenset({"transparent", "opaque", "auto"})
# What `auto` resolves to in responses. The real API picks per image; the fake is fixed.
AUTO_QUALITY = "medium"
AUTO_BACKGROUND = "opaque"
_TOKENS_PER_MEGAPIXEL = {"low": 272, "medium": 1056, "high": 4160, "xhigh": 6240, "max": 8320, "standard": 1056}

_FAULT = re.compile(r"\[fault:(500|429|timeout|slow|safety|invalid_image)(?:x(\d+))?\]")


@dataclass(frozen=True)
class ReceivedCall:
    """One request that reached an images endpoint with credentials."""

    endpoint: str  # "edits" | "generations"
    prompt: str
    n: int | None
    size: str | None
    image_count: int
    has_mask: bool
    image_field_names: tuple[str, ...] = ()  # multipart names of the image parts, e.g. ("image[]", "image[]")
    fields: dict[str, Any] = field(default_factory=dict)  # every non-file parameter as received


class ApiError(Exception):
    """An OpenAI-shaped error response."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
        self.headers = headers or {}


def _invalid(param: str, message: str, code: str = "invalid_value") -> ApiError:
    return ApiError(400, message, param=param, code=code)


class FakeProvider:
    """The fake images API in a daemon thread. `base_url` is what an OpenAI client needs."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        delay: float = 1.0,
        hang_seconds: float = 30.0,
        *,
        slow_seconds: float = 3.0,
        quiet: bool = True,
    ) -> None:
        self.host = host
        self.port = port
        self.delay = delay
        self.hang_seconds = hang_seconds
        self.slow_seconds = slow_seconds
        self.quiet = quiet
        self._lock = threading.Lock()
        self._calls: list[ReceivedCall] = []
        self._attempts: dict[str, int] = {}
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def calls(self) -> list[ReceivedCall]:
        with self._lock:
            return list(self._calls)

    def calls_for(self, prompt: str) -> list[ReceivedCall]:
        return [call for call in self.calls if call.prompt == prompt]

    def reset(self) -> None:
        """Forget received calls and fault counters."""
        with self._lock:
            self._calls.clear()
            self._attempts.clear()

    def start(self) -> FakeProvider:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server((self.host, self.port), _Handler)
        server.fake = self
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-provider", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; requests hanging on a timeout fault are released."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- Called from handler threads --------------------------------------------------------

    def _record(self, call: ReceivedCall) -> None:
        with self._lock:
            self._calls.append(call)

    def _fault_for(self, prompt: str) -> str | None:
        directives = _FAULT.findall(prompt)
        if not directives:
            return None
        with self._lock:
            attempt = self._attempts.get(prompt, 0)
            self._attempts[prompt] = attempt + 1
        start = 0
        for kind, count in directives:
            if not count:
                return kind
            if attempt < start + int(count):
                return kind
            start += int(count)
        return None

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, dict[str, Any], dict[str, str]]:
        """(status, JSON body, extra headers) for one request."""
        path = path.split("?", 1)[0].rstrip("/")
        if method == "GET" and path in ("/health", "/v1/health"):
            return 200, {"status": "ok"}, {}
        routes = {"/v1/images/edits": "edits", "/v1/images/generations": "generations"}
        endpoint = routes.get(path) if method == "POST" else None
        try:
            if endpoint is None:
                raise ApiError(404, f"Invalid URL ({method} {path})")
            auth = headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or not auth[len("Bearer ") :].strip():
                raise ApiError(
                    401,
                    "You didn't provide an API key. You need to provide your API key in an Authorization header "
                    "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                )
            request = _parse_request(endpoint, headers.get("Content-Type", ""), body)
            self._record(request.call)
            params = _validate(request)
            fault = self._fault_for(request.prompt)
            self._wait(self.delay)
            _apply_fault(fault, self)
            return 200, _respond(request, params), {}
        except ApiError as exc:
            return exc.status, exc.body, exc.headers


def _apply_fault(fault: str | None, fake: FakeProvider) -> None:
    if fault == "500":
        raise ApiError(
            500,
            "The server had an error while processing your request. Sorry about that!",
            type_="server_error",
        )
    if fault == "429":
        raise ApiError(
            429,
            "Rate limit reached for images per minute. Please try again in 1s.",
            type_="requests",
            code="rate_limit_exceeded",
            headers={"Retry-After": "1"},
        )
    if fault == "safety":
        raise ApiError(
            400,
            "Your request was rejected by the safety system. If you believe this is an error, contact us "
            "at help.openai.com and include the request ID if available.",
            type_="image_generation_user_error",
            code="moderation_blocked",
        )
    if fault == "invalid_image":
        raise ApiError(
            400,
            "Invalid image file or mode for image 1, please check your image file.",
            param="image",
            code="invalid_image_format",
        )
    if fault == "timeout":
        fake._wait(fake.hang_seconds)
    if fault == "slow":
        fake._wait(fake.slow_seconds)


# -- Request parsing ------------------------------------------------------------------------


@dataclass
class _Request:
    endpoint: str
    fields: dict[str, Any]
    images: list[bytes]
    mask: bytes | None
    image_field_names: tuple[str, ...]

    @property
    def prompt(self) -> str:
        value = self.fields.get("prompt")
        return value if isinstance(value, str) else ""

    @property
    def call(self) -> ReceivedCall:
        n = self.fields.get("n")
        try:
            n_value = int(n) if n is not None else None
        except (TypeError, ValueError):
            n_value = None
        size = self.fields.get("size")
        return ReceivedCall(
            endpoint=self.endpoint,
            prompt=self.prompt,
            n=n_value,
            size=str(size) if size is not None else None,
            image_count=len(self.images),
            has_mask=self.mask is not None,
            image_field_names=self.image_field_names,
            fields=dict(self.fields),
        )


def _parse_request(endpoint: str, content_type: str, body: bytes) -> _Request:
    header = Message()
    header["Content-Type"] = content_type or "application/octet-stream"
    media_type = header.get_content_type()
    if endpoint == "generations":
        if media_type != "application/json":
            raise ApiError(400, "Expected a JSON body (Content-Type: application/json).")
        try:
            fields = json.loads(body or b"{}")
        except ValueError as exc:
            raise ApiError(400, "We could not parse the JSON body of your request.") from exc
        if not isinstance(fields, dict):
            raise ApiError(400, "The JSON body must be an object.")
        return _Request(endpoint, fields, [], None, ())

    if media_type != "multipart/form-data":
        raise ApiError(400, "Expected a multipart/form-data body with a boundary.")
    try:
        parts = parse_multipart(body, content_type)
    except InvalidRequest as exc:
        raise ApiError(400, exc.message) from exc
    fields: dict[str, Any] = {}
    images: list[bytes] = []
    names: list[str] = []
    mask = None
    for part in parts:
        if part.name in ("image", "image[]"):
            images.append(part.data)
            names.append(part.name)
        elif part.name == "mask":
            mask = part.data
        elif not part.is_file:
            fields[part.name] = part.data.decode("utf-8", errors="replace")
    return _Request(endpoint, fields, images, mask, tuple(names))


def _validate(request: _Request) -> dict[str, Any]:
    fields = request.fields
    prompt = fields.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise _invalid("prompt", "Missing required parameter: 'prompt'.", "missing_required_parameter")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise _invalid(
            "prompt",
            f"Invalid 'prompt': string too long. Expected at most {MAX_PROMPT_CHARS}.",
            "string_above_max_length",
        )
    if request.endpoint == "edits":
        if not request.images:
            raise _invalid("image", "Missing required parameter: 'image'.", "missing_required_parameter")
        if len(request.images) > MAX_INPUT_IMAGES:
            raise _invalid("image", f"Too many images: at most {MAX_INPUT_IMAGES} are allowed.")

    n = _int_field(fields, "n", 1, 1, 10)
    compression = _int_field(fields, "output_compression", None, 0, 100)
    output_format = str(fields.get("output_format") or "png")
    if output_format not in FORMATS:
        raise _invalid("output_format", f"Invalid 'output_format': {output_format!r} is not one of png, jpeg, webp.")
    quality = str(fields.get("quality") or "auto")
    if quality not in QUALITIES:
        raise _invalid("quality", f"Invalid 'quality': {quality!r}.")
    background = str(fields.get("background") or "auto")
    if background not in BACKGROUNDS:
        raise _invalid("background", f"Invalid 'background': {background!r}.")
    if background == "transparent" and output_format == "jpeg":
        raise _invalid("background", "Transparent background requires output_format png or webp.")

    images = [_open_image(data, "image", index) for index, data in enumerate(request.images)]
    mask = _open_image(request.mask, "mask", 0) if request.mask is not None else None
    size = _resolve_size(str(fields.get("size") or "auto"), images[0].size if images else None)
    return {
        "n": n,
        "size": size,
        "quality": AUTO_QUALITY if quality == "auto" else quality,
        "background": AUTO_BACKGROUND if background == "auto" else background,
        "output_format": output_format,
        "output_compression": compression,
        "images": images,
        "mask": mask,
    }


def _int_field(fields: dict[str, Any], name: str, default: int | None, low: int, high: int) -> int | None:
    value = fields.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _invalid(name, f"Invalid '{name}': expected an integer.") from None
    if not low <= number <= high:
        raise _invalid(name, f"Invalid '{name}': expected a value between {low} and {high}.")
    return number


def _resolve_size(size: str, first_input: tuple[int, int] | None) -> tuple[int, int]:
    if size == "auto":
        if first_input is not None:
            width, height = first_input
            if width > height * 1.1:
                return 1536, 1024
            if height > width * 1.1:
                return 1024, 1536
        return 1024, 1024
    match = re.fullmatch(r"(\d{1,5})x(\d{1,5})", size)
    if not match:
        raise _invalid("size", f"Invalid 'size': {size!r}. Use 'auto' or 'WIDTHxHEIGHT'.")
    width, height = int(match[1]), int(match[2])
    if (
        width < 16
        or height < 16
        or width % 16
        or height % 16
        or max(width, height) > MAX_EDGE
        or width * height > MAX_PIXELS
        or max(width, height) > 3 * min(width, height)
    ):
        raise _invalid(
            "size",
            f"Invalid 'size': {size!r}. Width and height must be multiples of 16, at most {MAX_EDGE}, "
            f"at most {MAX_PIXELS} pixels, with an aspect ratio between 1:3 and 3:1.",
        )
    return width, height


def _open_image(data: bytes, param: str, index: int) -> Image.Image:
    try:
        img = Image.open(io.BytesIO(data), formats=list(FORMATS.values()))
        img = ImageOps.exif_transpose(img) if img.format == "JPEG" else img
        img.load()
    except Exception as exc:  # noqa: BLE001 - anything Pillow raises means "not an image we read"
        raise ApiError(
            400,
            f"Invalid image file or mode for {param} {index + 1}, please check your image file.",
            param=param,
            code="invalid_image_format",
        ) from exc
    return img


# -- Drawing --------------------------------------------------------------------------------


def _respond(request: _Request, params: dict[str, Any]) -> dict[str, Any]:
    width, height = params["size"]
    transparent = params["background"] == "transparent"
    outputs = []
    for index in range(params["n"]):
        overlays: list[tuple[int, int, int, int]] = []
        if request.endpoint == "edits":
            canvas = _draw_edit(params["images"], params["mask"], request.prompt, (width, height), index, overlays)
        else:
            canvas = _draw_generation(request.prompt, (width, height), index)
        _draw_caption(canvas, request.prompt, index, params["n"], overlays)
        if transparent:
            canvas.putalpha(_subject_alpha(canvas.size, overlays))
        data = _encode(canvas, params["output_format"], params["output_compression"])
        outputs.append({"b64_json": base64.b64encode(data).decode("ascii")})

    text_tokens = max(1, len(request.prompt) // 4)
    image_tokens = sum(_input_image_tokens(img.size) for img in params["images"])
    per_megapixel = _TOKENS_PER_MEGAPIXEL.get(params["quality"], 1056)
    output_tokens = params["n"] * max(1, round(per_megapixel * width * height / (1024 * 1024)))
    input_tokens = text_tokens + image_tokens
    return {
        "created": int(time.time()),
        "data": outputs,
        "usage": {
            "total_tokens": input_tokens + output_tokens,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": image_tokens},
            "output_tokens_details": {"text_tokens": 0, "image_tokens": output_tokens},
        },
        "size": f"{width}x{height}",
        "quality": params["quality"],
        "output_format": params["output_format"],
        "background": params["background"],
    }


def _input_image_tokens(size: tuple[int, int]) -> int:
    width, height = (min(edge, 2048) for edge in size)
    return 65 + 129 * math.ceil(width / 512) * math.ceil(height / 512)


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
    overlays: list[tuple[int, int, int, int]],
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


def _draw_caption(
    canvas: Image.Image, prompt: str, index: int, count: int, overlays: list[tuple[int, int, int, int]]
) -> None:
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


def _subject_alpha(size: tuple[int, int], overlays: list[tuple[int, int, int, int]]) -> Image.Image:
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


# -- HTTP plumbing ---------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeProvider


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    server_version = "FakeImagesAPI/1.0"

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        fake = self.server.fake
        try:
            body = self._read_body()
        except ApiError as exc:
            self.close_connection = True
            self._send(exc.status, exc.body, exc.headers)
            return
        try:
            status, payload, headers = fake.handle(method, self.path, self.headers, body)
        except Exception:  # noqa: BLE001 - a bug in the fake must still answer, like a real 500
            traceback.print_exc(file=sys.stderr)
            status, headers = 500, {}
            payload = {
                "error": {"message": "fake provider crashed", "type": "server_error", "param": None, "code": None}
            }
        self._send(status, payload, headers)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY_BYTES:
                    raise ApiError(413, "Request body too large.")
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise ApiError(413, "Request body too large.")
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
        data = json.dumps(payload).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (e.g. a timeout fault)
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        if not self.server.fake.quiet:
            super().log_message(format, *args)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake OpenAI images API on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--delay", type=float, default=1.0, help="seconds to wait before answering")
    parser.add_argument("--hang-seconds", type=float, default=30.0, help="how long a timeout fault hangs")
    args = parser.parse_args(argv)
    fake = FakeProvider(args.host, args.port, delay=args.delay, hang_seconds=args.hang_seconds, quiet=False)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    fake.start()
    print(f"fake images provider listening: base_url={fake.base_url}", file=sys.stderr, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
