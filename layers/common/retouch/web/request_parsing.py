"""Turn an HTTP API event into a validated request model; every problem becomes a 4xx, never a 500."""

from __future__ import annotations

import base64
import json
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from retouch.catalog import DEFAULT_MODEL, find_model
from retouch.errors import (
    InvalidRequest,
    ModelNotFound,
    PayloadTooLarge,
    UnknownParameter,
    UnsupportedMediaType,
    UnsupportedParameter,
)
from retouch.models.quotes import QuoteRequest
from retouch.models.requests import EditRequest, GenerationRequest, UploadedImage, UploadRequest
from retouch.web.multipart import Part, parse_multipart

RequestModel = TypeVar("RequestModel", bound=BaseModel)
# A settings-sized JSON body (sign-in, keys, webhooks, top-ups, credit adjustments): nothing of them comes near it.
SMALL_JSON_BODY_BYTES = 4 * 1024
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_IMAGE_FIELDS = ("image", "image[]")


def raw_body(event: dict[str, Any], max_bytes: int) -> bytes:
    body = event.get("body") or ""
    # base64 is 4/3 of the bytes: refuse obviously oversized bodies before decoding them.
    if len(body) > max_bytes * 4 // 3 + 4:
        raise PayloadTooLarge(_too_large(max_bytes))
    data = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    if len(data) > max_bytes:
        raise PayloadTooLarge(_too_large(max_bytes))
    return data


def _too_large(max_bytes: int) -> str:
    size = f"{max_bytes // (1024 * 1024)} MB" if max_bytes >= 1024 * 1024 else f"{max_bytes // 1024} KB"
    return f"The request body must be at most {size}."


def media_type(event: dict[str, Any]) -> str:
    headers: dict[str, str] = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    return headers.get("content-type", "")


def _json_object(data: bytes) -> dict[str, Any]:
    try:
        # Bytes that are not UTF-8 survive as lone surrogates, so the field holding them can be named below.
        payload = json.loads(data.decode("utf-8", "surrogateescape") or "null")
    except (ValueError, RecursionError) as exc:
        raise InvalidRequest("The request body is not valid JSON.", code="invalid_json") from exc
    if not isinstance(payload, dict):
        raise InvalidRequest("The request body must be a JSON object.", code="invalid_json")
    for name, value in payload.items():
        if _has_lone_surrogate(name) or _has_lone_surrogate(value):
            param = name if not _has_lone_surrogate(name) else None
            raise InvalidRequest(f"'{param or 'a field name'}' is not valid UTF-8.", param=param,
                                 code="invalid_encoding")
    return payload


def _has_lone_surrogate(value: Any) -> bool:
    """True for text no UTF-8 encoder accepts: undecodable body bytes, or a JSON `\\udc80` escape.
    Iterative: json.loads accepts nesting as deep as the recursion limit allows."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _LONE_SURROGATE.search(item):
                return True
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
    return False


def _metadata_field(fields: dict[str, Any], part: Part) -> None:
    metadata = fields.setdefault("metadata", {})
    if part.name == "metadata":
        try:
            decoded = json.loads(_text(part))
        except (ValueError, RecursionError) as exc:
            raise InvalidRequest("metadata must be a JSON object of strings.", param="metadata") from exc
        if not isinstance(decoded, dict):
            raise InvalidRequest("metadata must be a JSON object of strings.", param="metadata")
        metadata.update(decoded)
    else:
        metadata[part.name[len("metadata["):-1]] = _text(part, param="metadata")


def _text(part: Part, *, param: str | None = None) -> str:
    """A text field's value; bytes that are not UTF-8 are a 400, as they are in a JSON body, never U+FFFD."""
    try:
        return part.data.decode("utf-8")
    except UnicodeDecodeError as exc:
        name = param or part.name
        raise InvalidRequest(f"'{name}' is not valid UTF-8.", param=name, code="invalid_encoding") from exc


def _form_fields(parts: list[Part]) -> dict[str, Any]:
    """Multipart parts -> the same dict shape the JSON form has (`images`, `mask`, scalar fields)."""
    fields: dict[str, Any] = {}
    for part in parts:
        if part.name in _IMAGE_FIELDS or part.name == "mask":
            if not part.is_file:
                raise InvalidRequest(f"'{part.name}' must be a file upload.", param=part.name.rstrip("[]"))
            upload = UploadedImage(filename=part.filename or "image", content_type=part.content_type, data=part.data)
            if part.name == "mask":
                fields["mask"] = upload
            else:
                fields.setdefault("images", []).append(upload)
        elif part.name == "metadata" or (part.name.startswith("metadata[") and part.name.endswith("]")):
            _metadata_field(fields, part)
        elif part.name in fields:
            raise InvalidRequest(f"'{part.name}' was given more than once.", param=part.name)
        else:
            fields[part.name] = _text(part)
    return fields


def _reject_unsupported(fields: dict[str, Any]) -> None:
    model_id = fields.get("model") or DEFAULT_MODEL
    spec = find_model(model_id) if isinstance(model_id, str) else None
    if spec is None:
        raise ModelNotFound(f"The model '{model_id}' does not exist or is not supported.", param="model")
    for name in fields:
        if name in spec.unsupported_parameters:
            raise UnsupportedParameter(f"'{name}' is not supported by {spec.id}.", param=name)
    if fields.get("model") is None:
        fields.pop("model", None)


def _model_of(model: type[RequestModel], fields: dict[str, Any], *, strict: bool = False) -> RequestModel:
    """`fields` as `model`, or a 400 naming the param. `strict` (a JSON body, whose values carry their own types):
    an int refuses a bool or a string, a bool refuses a string, as OpenAI's API does; a multipart form's fields are
    all strings, so it is read leniently (`n=2`, `stream=true`)."""
    try:
        return model.model_validate(fields, strict=strict)
    except ValidationError as exc:
        raise invalid_request_from(exc) from exc


def _validated(model: type[RequestModel], fields: dict[str, Any], *, strict: bool) -> RequestModel:
    _reject_unsupported(fields)
    return _model_of(model, fields, strict=strict)


def invalid_request_from(exc: ValidationError) -> InvalidRequest:
    error = exc.errors(include_url=False)[0]
    kind = error["type"]
    custom_param = (error.get("ctx") or {}).get("param")
    param = custom_param or _param_of(error["loc"])
    if kind == "extra_forbidden":
        param = custom_param or _unknown_param_of(error["loc"])
        return UnknownParameter(f"Unknown parameter: '{param}'.", param=param)
    if kind == "missing":
        return InvalidRequest(f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter")
    if kind == "model_not_found":
        return ModelNotFound(error["msg"], param="model")
    code = kind if kind in ("invalid_size", "invalid_metadata") else "invalid_value"
    message = error["msg"] if custom_param else f"Invalid '{param}': {error['msg']}"
    return InvalidRequest(message, param=param, code=code)


def _param_of(loc: tuple[Any, ...]) -> str | None:
    """The param an error's location names: `image[0]` for an image as a whole, `images[0].width` or `mask.file_id`
    for a field of one (its location holds the union member's tag before the field)."""
    if not loc:
        return None
    head = str(loc[0])
    if head == "images" and len(loc) > 1 and isinstance(loc[1], int):
        field = loc[3] if len(loc) > 3 else None
        return f"images[{loc[1]}].{field}" if isinstance(field, str) else f"image[{loc[1]}]"
    if head == "mask" and len(loc) > 2 and isinstance(loc[2], str):
        return f"mask.{loc[2]}"
    return head


def _unknown_param_of(loc: tuple[Any, ...]) -> str | None:
    """An unknown key named by its whole path (`limits.bogus`), not the object holding it; an image's through
    _param_of, whose location holds its union member's tag."""
    if not loc or str(loc[0]) in ("images", "mask"):
        return _param_of(loc)
    return str(loc[0]) + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc[1:])


def _json_fields(event: dict[str, Any], max_bytes: int, what: str) -> dict[str, Any]:
    """The body of a JSON-only request as an object: 413 past `max_bytes`, 415 for another content type."""
    data = raw_body(event, max_bytes)
    if not media_type(event).lower().startswith("application/json"):
        raise UnsupportedMediaType(f"Send the {what} as application/json.")
    return _json_object(data)


def parse_generation(event: dict[str, Any], max_bytes: int) -> GenerationRequest:
    return _validated(GenerationRequest, _json_fields(event, max_bytes, "generation request"), strict=True)


def parse_upload(event: dict[str, Any], max_bytes: int) -> UploadRequest:
    return _model_of(UploadRequest, _json_fields(event, max_bytes, "upload request"), strict=True)


def parse_edit(event: dict[str, Any], max_bytes: int) -> EditRequest:
    data = raw_body(event, max_bytes)
    content_type = media_type(event)
    lowered = content_type.lower()
    is_json = lowered.startswith("application/json")
    if lowered.startswith("multipart/form-data"):
        fields = _form_fields(parse_multipart(data, content_type))
        if "images" not in fields:
            raise InvalidRequest("Missing required parameter: 'image'.", param="image",
                                 code="missing_required_parameter")
    elif is_json:
        fields = _json_edit_fields(_json_object(data))
    else:
        raise UnsupportedMediaType("Send the edit request as multipart/form-data or application/json.")
    return _validated(EditRequest, fields, strict=is_json)


_REFERENCE_KEYS = ("image_url", "file_id")


def _json_edit_fields(fields: dict[str, Any], *, declared_sizes: bool = False) -> dict[str, Any]:
    """A JSON edit's body (or a quote's, which may also give an image by `declared_sizes`), its images checked for
    their form: `images`, not `image`, each a reference (_only_references)."""
    if "images" not in fields and "image" in fields:
        raise InvalidRequest("Use 'images' (a list of {\"image_url\": ...} or {\"file_id\": ...}) in JSON "
                             "requests.", param="image")
    _only_references(fields, declared_sizes=declared_sizes)
    return fields


def _only_references(fields: dict[str, Any], *, declared_sizes: bool) -> None:
    """JSON references each image by URL (`{"image_url": ...}`) or uploaded file (`{"file_id": ...}`), exactly one
    of the two, as OpenAI's JSON edits do; bytes arrive as multipart files. `declared_sizes` (a quote): an image with
    neither is a `{width, height}`, checked by its model."""
    images = fields.get("images")
    refs = [(f"image[{i}]", ref) for i, ref in enumerate(images)] if isinstance(images, list) else []
    if fields.get("mask") is not None:
        refs.append(("mask", fields["mask"]))
    for param, ref in refs:
        given = [key for key in _REFERENCE_KEYS if isinstance(ref, dict) and key in ref]
        if not given and declared_sizes:
            continue
        if not given:
            raise InvalidRequest(f"Missing required parameter: '{param}.image_url' (or '{param}.file_id').",
                                 param=param, code="missing_required_parameter")
        if len(given) > 1:
            raise InvalidRequest(f"'{param}' must have exactly one of 'image_url' or 'file_id'.", param=param)
        extra = sorted(set(ref) - set(given))
        if extra:
            raise UnknownParameter(f"Unknown parameter: '{param}.{extra[0]}'.", param=param)


def parse_json_body(event: dict[str, Any], max_bytes: int, model: type[RequestModel]) -> RequestModel:
    """A small JSON request body (end users' limits, device tokens, top-ups, billing settings) as `model`; every
    problem a 4xx (415 for another content type)."""
    return _model_of(model, _json_fields(event, max_bytes, "request"))


def parse_quote(event: dict[str, Any], max_bytes: int) -> QuoteRequest:
    """A quote's body: an edit's or a generation's JSON, read as the JSON edit's is (parse_edit), its images also
    possibly declared by size."""
    fields = _json_edit_fields(_json_fields(event, max_bytes, "quote request"), declared_sizes=True)
    return _validated(QuoteRequest, fields, strict=True)
