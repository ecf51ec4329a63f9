"""The MCP tools' names, descriptions and input schemas, and how a tool's arguments become an API request body.

The image tools' schemas are the API's own request models (`GenerationRequest`), narrowed to what an agent sets and
tightened with the catalog (retouch.catalog): the model enum, the longest prompt and the largest `n` any model
allows, so a schema never admits less than `/v1/models` does. Every call is then validated by the same pydantic
model the API validates with, which applies the named model's own limits; a refusal names the parameter. An argument
outside a tool's schema (each is `additionalProperties: false`) is refused by name, for every tool.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from retouch.catalog import MODELS, find_model
from retouch.models.common import JOB_ID_PATTERN
from retouch.models.requests import GenerationRequest

# What an agent sets; webhooks, metadata, response_format and user ids stay API-only.
IMAGE_OPTIONS = ("model", "prompt", "n", "size", "quality", "background", "output_format", "output_compression",
                 "moderation")
JOB_STATUSES = ("queued", "running", "succeeded", "failed", "canceled")


class ToolArgumentsInvalid(Exception):
    """A tool's arguments do not fit its schema or the model's limits; `param` names the offending one."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


def _catalog_union(attribute: str) -> list[str]:
    return list(dict.fromkeys(value for spec in MODELS.values() for value in getattr(spec, attribute)))


def image_options_schema() -> dict[str, Any]:
    """The generation options as JSON Schema, from GenerationRequest, tightened with the catalog."""
    properties = GenerationRequest.model_json_schema()["properties"]
    options = {name: dict(properties[name]) for name in IMAGE_OPTIONS}
    for schema in options.values():
        schema.pop("title", None)
    options["model"]["enum"] = [name for spec in MODELS.values() for name in (spec.id, *spec.aliases)]
    options["prompt"]["maxLength"] = max(spec.limits.max_prompt_chars for spec in MODELS.values())
    options["n"]["maximum"] = max(spec.limits.max_n for spec in MODELS.values())
    options["size"]["description"] = ("auto, or WIDTHxHEIGHT within the model's limits (GET /v1/models lists them, "
                                      "or the list_models tool)")
    options["quality"]["enum"] = _catalog_union("qualities")
    options["output_format"]["enum"] = _catalog_union("output_formats")
    options["background"]["enum"] = _catalog_union("backgrounds")
    options["moderation"]["enum"] = _catalog_union("moderation_levels")
    options["output_compression"]["description"] = "jpeg and webp only"
    return options


def _image_reference_schema(allow_paths: bool) -> dict[str, Any]:
    choices: list[dict[str, Any]] = [
        {"type": "object", "properties": {"url": {"type": "string", "format": "uri"}}, "required": ["url"],
         "additionalProperties": False},
        {"type": "object", "properties": {"file_id": {"type": "string", "minLength": 1}}, "required": ["file_id"],
         "additionalProperties": False},
    ]
    if allow_paths:
        choices.append({"type": "object", "properties": {"path": {"type": "string", "minLength": 1}},
                        "required": ["path"], "additionalProperties": False,
                        "description": "a local file, uploaded through /v1/uploads first"})
    return {"oneOf": choices}


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


_WAIT = {"type": "number", "minimum": 0, "maximum": 300,
         "description": "for clients without tasks: seconds to wait for the images before answering with the job id"}


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    input_schema: dict[str, Any]
    creates_job: bool = False


def tool_specs(*, allow_paths: bool) -> list[ToolSpec]:
    """Every tool; `allow_paths` (stdio only) lets edit_image take local files."""
    options = image_options_schema()
    max_images = max(spec.limits.max_images for spec in MODELS.values())
    reference = _image_reference_schema(allow_paths)
    job_id = {"job_id": {"type": "string", "pattern": JOB_ID_PATTERN, "description": "a job's id: job_…"}}
    return [
        ToolSpec("generate_image",
                 "Generate images from a prompt. Answers with a task bound to the Retouch job when the client "
                 "supports MCP tasks; otherwise waits up to `wait_seconds` and then returns the job id to follow.",
                 _object({**options, "wait_seconds": _WAIT}, ["prompt"]), creates_job=True),
        ToolSpec("edit_image",
                 "Edit one or more images with a prompt (images by URL, file_id" + (", or local path" if allow_paths
                 else "") + "). Answers as generate_image does.",
                 _object({**options, "images": {"type": "array", "items": reference, "minItems": 1,
                                                "maxItems": max_images},
                          "mask": reference, "wait_seconds": _WAIT}, ["prompt", "images"]), creates_job=True),
        ToolSpec("get_job", "A Retouch job: its status, outputs (URLs) and cost.", _object(job_id, ["job_id"])),
        ToolSpec("cancel_job",
                 "Cancel a queued job; its hold is released. A job a worker has started runs to its end (the API "
                 "answers 409 job_not_cancelable) and is charged only if it succeeds.", _object(job_id, ["job_id"])),
        ToolSpec("list_jobs", "The account's jobs, newest first.",
                 _object({"limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                          "after": {"type": "string", "description": "next_cursor of the previous page"},
                          "status": {"type": "string", "enum": list(JOB_STATUSES)}}, [])),
        ToolSpec("quote", "What a generation or edit would hold from the balance (the most it can cost), and whether "
                 "this connection's spend limit allows it. Makes no job.",
                 _object({**options, "kind": {"type": "string", "enum": ["generation", "edit"],
                                              "default": "generation"}}, ["prompt"])),
        ToolSpec("get_balance", "The account's available credit and in-flight jobs.", _object({}, [])),
        ToolSpec("list_models", "The models, their limits, qualities, sizes and prices.", _object({}, [])),
    ]


def check_known_arguments(spec: ToolSpec, arguments: dict[str, Any]) -> None:
    """The schema's `additionalProperties: false`, enforced before anything is sent: an argument the tool does not
    take (`webhook_url`, `user`, `metadata`: API-only) is refused by name, never dropped from a paid call."""
    taken = list(spec.input_schema["properties"])
    unknown = [name for name in arguments if name not in taken]
    if unknown:
        raise ToolArgumentsInvalid(f"{spec.name} takes no such argument; it takes "
                                   f"{', '.join(taken) if taken else 'none'}.", param=unknown[0])


def validated_options(arguments: dict[str, Any]) -> GenerationRequest:
    """The image options in `arguments`, validated by the API's own request model (the named model's limits)."""
    options = {name: arguments[name] for name in IMAGE_OPTIONS if name in arguments}
    try:
        return GenerationRequest.model_validate(options)
    except ValidationError as exc:
        error = exc.errors()[0]
        context = error.get("ctx") or {}
        param = context.get("param") or (str(error["loc"][0]) if error.get("loc") else None)
        raise ToolArgumentsInvalid(str(error["msg"]), param=param) from None


@dataclass(frozen=True)
class ImageReference:
    """One input image as the agent named it."""

    kind: Literal["url", "file_id", "path"]
    value: str

    def api_reference(self) -> dict[str, str]:
        return {"image_url": self.value} if self.kind == "url" else {"file_id": self.value}


def image_reference(value: Any, *, param: str, allow_paths: bool) -> ImageReference:
    if not isinstance(value, dict) or len(value) != 1:
        raise ToolArgumentsInvalid(f"'{param}' must be one of {{url}}, {{file_id}} or {{path}}.", param=param)
    ((kind, ref),) = value.items()
    allowed = ("url", "file_id", "path") if allow_paths else ("url", "file_id")
    if kind not in allowed or not isinstance(ref, str) or not ref:
        hint = "" if allow_paths else " (local paths only through the stdio entry, retouch-mcp)"
        raise ToolArgumentsInvalid(f"'{param}' must name an image by {' or '.join(allowed)}{hint}.", param=param)
    if kind == "path" and not Path(ref).expanduser().is_file():
        raise ToolArgumentsInvalid(f"'{param}': no such file: {ref}", param=param)
    return ImageReference(kind, ref)


def edit_references(arguments: dict[str, Any], *, allow_paths: bool) -> tuple[list[ImageReference],
                                                                               ImageReference | None]:
    images = arguments.get("images")
    model = find_model(str(arguments.get("model") or GenerationRequest.model_fields["model"].default))
    max_images = model.limits.max_images if model else 1
    if not isinstance(images, list) or not 1 <= len(images) <= max_images:
        raise ToolArgumentsInvalid(f"'images' must list 1 to {max_images} images.", param="images")
    references = [image_reference(item, param=f"images[{i}]", allow_paths=allow_paths)
                  for i, item in enumerate(images)]
    mask = arguments.get("mask")
    return references, (image_reference(mask, param="mask", allow_paths=allow_paths) if mask is not None else None)
