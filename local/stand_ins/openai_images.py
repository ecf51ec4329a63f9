"""The OpenAI images API's wire format: `POST /v1/images/edits` (multipart) and `POST /v1/images/generations`
(JSON), its parameter rules, its error bodies and its token usage.

Multipart bodies are parsed by werkzeug's form parser, not by retouch's: a stand-in that parsed with the parser
of the system in front of it would hide that parser's bugs.
"""

from __future__ import annotations

import base64
import json
import math
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from PIL import Image
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from local.stand_ins.drawing import FORMATS, Canvas, UnreadableImage, auto_size, draw_outputs, open_image
from local.stand_ins.image_stream import ImageStream, streaming_requested
from local.stand_ins.stand_in import ReceivedCall, StandIn

MAX_PROMPT_CHARS = 32_000
MAX_INPUT_IMAGES = 16
MAX_EDGE = 3840
MAX_PIXELS = 3840 * 2160
QUALITIES = frozenset({"low", "medium", "high", "xhigh", "max", "auto", "standard"})
BACKGROUNDS = frozenset({"transparent", "opaque", "auto"})
# What `auto` resolves to in responses. The real API picks per image; the fake is fixed.
AUTO_QUALITY = "medium"
AUTO_BACKGROUND = "opaque"
_TOKENS_PER_MEGAPIXEL = {"low": 272, "medium": 1056, "high": 4160, "xhigh": 6240, "max": 8320, "standard": 1056}
_ENDPOINTS = {"/v1/images/edits": "edits", "/v1/images/generations": "generations"}
_IMAGE_FIELDS = ("image", "image[]")


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


# The errors a fault directive (local.stand_ins.faults) turns into, as OpenAI words them.
FAULT_ERRORS = {
    "500": lambda: ApiError(
        500, "The server had an error while processing your request. Sorry about that!", type_="server_error"
    ),
    "429": lambda: ApiError(
        429,
        "Rate limit reached for images per minute. Please try again in 1s.",
        type_="requests",
        code="rate_limit_exceeded",
        headers={"Retry-After": "1"},
    ),
    "503": lambda: ApiError(
        503, "The engine is currently overloaded, please try again later.", type_="server_error"
    ),
    "safety": lambda: ApiError(
        400,
        "Your request was rejected by the safety system. If you believe this is an error, contact us "
        "at help.openai.com and include the request ID if available.",
        type_="image_generation_user_error",
        code="moderation_blocked",
    ),
    "invalid_image": lambda: ApiError(
        400,
        "Invalid image file or mode for image 1, please check your image file.",
        param="image",
        code="invalid_image_format",
    ),
}


class OpenAIImagesFake(StandIn):
    """The OpenAI images API on loopback; `base_url` is what an OpenAI client needs."""

    upstream = "openai"

    api_prefix = "/v1"

    #: The response header that carries the provider's request id.
    request_id_header = "x-request-id"
    #: The errors a fault directive turns into.
    fault_errors = FAULT_ERRORS

    def respond(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        if request.method == "GET" and path in ("/health", "/v1/health"):
            return _json(200, {"status": "ok"})
        headers = {self.request_id_header: f"req_{uuid.uuid4().hex}"}
        try:
            answer = self._answer(request, path)
        except ApiError as exc:
            return _json(exc.status, exc.body, exc.headers)
        if isinstance(answer, ImageStream):
            return Response(answer.events(), status=200, headers=headers, mimetype="text/event-stream",
                            direct_passthrough=True)
        self.answered_at.record(headers[self.request_id_header])
        return _json(200, answer, headers)

    def _answer(self, request: Request, path: str) -> dict[str, Any] | ImageStream:
        endpoint = self.endpoint_for(request, path)
        self.authorize(request)
        try:
            images_request = _parse_request(endpoint, request)
        except RequestEntityTooLarge as exc:
            raise ApiError(413, "Request body too large.") from exc
        self.record(images_request.call)
        params = self.validate(images_request)
        fault = self.faults.next_fault(images_request.prompt)
        if fault is None and streaming_requested(images_request.fields):
            # The delay is spent inside the stream, its partials spread over it (local/stand_ins/image_stream.py).
            return ImageStream(images_request, params, self.answer, self.delay, self.wait)
        self.delay_for(fault)
        if fault in self.fault_errors:
            raise self.fault_errors[fault]()
        return self.answer(images_request, params)

    # -- What an OpenAI-compatible provider may change -----------------------------------------

    def endpoint_for(self, request: Request, path: str) -> str:
        """`edits` or `generations` for this request's method and path; a 404 otherwise."""
        endpoint = _ENDPOINTS.get(path) if request.method == "POST" else None
        if endpoint is None:
            raise ApiError(404, f"Invalid URL ({request.method} {path})")
        return endpoint

    def authorize(self, request: Request) -> None:
        key = self.authorization_key(request)
        if not key:
            raise ApiError(
                401,
                "You didn't provide an API key. You need to provide your API key in an Authorization header "
                "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            )
        if not self.key_accepted(key):
            raise ApiError(401, "Incorrect API key provided.", code="invalid_api_key")

    def validate(self, images_request: ImagesRequest) -> dict[str, Any]:
        return _validate(images_request)

    def answer(self, images_request: ImagesRequest, params: dict[str, Any]) -> dict[str, Any]:
        return _respond(images_request, params)


def _json(status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(payload), status=status, headers=headers, mimetype="application/json")


# -- Request parsing ------------------------------------------------------------------------


@dataclass
class ImagesRequest:
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


def _parse_request(endpoint: str, request: Request) -> ImagesRequest:
    if endpoint == "generations":
        if request.mimetype != "application/json":
            raise ApiError(400, "Expected a JSON body (Content-Type: application/json).")
        try:
            fields = json.loads(request.get_data() or b"{}")
        except ValueError as exc:
            raise ApiError(400, "We could not parse the JSON body of your request.") from exc
        if not isinstance(fields, dict):
            raise ApiError(400, "The JSON body must be an object.")
        return ImagesRequest(endpoint, fields, [], None, ())

    if request.mimetype != "multipart/form-data" or not request.mimetype_params.get("boundary"):
        raise ApiError(400, "Expected a multipart/form-data body with a boundary.")
    fields: dict[str, Any] = dict(request.form.items())  # the last value of a repeated field, as before
    images: list[bytes] = []
    names: list[str] = []
    mask = None
    for name, upload in request.files.items(multi=True):
        if name in _IMAGE_FIELDS:
            images.append(upload.read())
            names.append(name)
        elif name == "mask":
            mask = upload.read()
    return ImagesRequest(endpoint, fields, images, mask, tuple(names))


def _validate(request: ImagesRequest) -> dict[str, Any]:
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
    size = resolve_size(str(fields.get("size") or "auto"), images[0].size if images else None)
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


def resolve_size(size: str, first_input: tuple[int, int] | None) -> tuple[int, int]:
    if size == "auto":
        return auto_size(first_input)
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
        return open_image(data)
    except UnreadableImage as exc:
        raise ApiError(
            400,
            f"Invalid image file or mode for {param} {index + 1}, please check your image file.",
            param=param,
            code="invalid_image_format",
        ) from exc


# -- Response -------------------------------------------------------------------------------


def _respond(request: ImagesRequest, params: dict[str, Any]) -> dict[str, Any]:
    width, height = params["size"]
    canvas = Canvas(
        size=(width, height),
        transparent=params["background"] == "transparent",
        output_format=params["output_format"],
        compression=params["output_compression"],
    )
    outputs = draw_outputs(request.prompt, params["images"], params["mask"], canvas, params["n"])
    text_tokens = max(1, len(request.prompt) // 4)
    image_tokens = sum(_input_image_tokens(img.size) for img in params["images"])
    per_megapixel = _TOKENS_PER_MEGAPIXEL.get(params["quality"], 1056)
    output_tokens = params["n"] * max(1, round(per_megapixel * width * height / (1024 * 1024)))
    input_tokens = text_tokens + image_tokens
    return {
        "created": int(time.time()),
        "data": [{"b64_json": base64.b64encode(data).decode("ascii")} for data in outputs],
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
