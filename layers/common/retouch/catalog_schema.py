"""Each model's request parameters as JSON Schema (published by GET /v1/models/{id}), from the catalog's limits."""

from __future__ import annotations

from typing import Any

from retouch.catalog import ModelSpec


def _size_schema(spec: ModelSpec) -> dict[str, Any]:
    limits = spec.limits
    if limits.sizes is not None:
        return {"type": "string", "enum": ["auto", *limits.sizes], "default": "auto"}
    return {
        "type": "string", "default": "auto", "pattern": r"^(auto|[1-9][0-9]{1,4}x[1-9][0-9]{1,4})$",
        "description": f"auto, or WIDTHxHEIGHT: both sides multiples of {limits.size_multiple}, longest edge at most "
                       f"{limits.max_edge}, aspect ratio at most {limits.max_aspect_ratio:g}:1, "
                       f"{limits.min_pixels:,} to {limits.max_pixels:,} pixels",
    }


def parameters_schema(spec: ModelSpec) -> dict[str, Any]:
    """The parameters of an edit with this model (a generation takes the same without `image` and `mask`)."""
    limits = spec.limits
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"{spec.id} image edit",
        "type": "object",
        "required": ["prompt", "image"],
        "properties": {
            "model": {"type": "string", "enum": [spec.id, *spec.aliases]},
            "prompt": {"type": "string", "minLength": 1, "maxLength": limits.max_prompt_chars},
            "image": {"type": "array", "minItems": 1, "maxItems": limits.max_images,
                      "description": f"input images ({', '.join(limits.image_formats)}), each at most "
                                     f"{limits.max_image_bytes} bytes and {limits.max_image_pixels:,} pixels"},
            "mask": {"description": f"PNG whose transparent areas are edited, at most {limits.max_mask_bytes} bytes"},
            "n": {"type": "integer", "minimum": 1, "maximum": limits.max_n, "default": 1},
            "size": _size_schema(spec),
            "quality": {"type": "string", "enum": list(spec.qualities), "default": "auto"},
            "output_format": {"type": "string", "enum": list(spec.output_formats), "default": "png"},
            "output_compression": {"type": "integer", "minimum": 0, "maximum": 100,
                                   "description": "jpeg and webp only"},
            "background": {"type": "string", "enum": list(spec.backgrounds), "default": "auto",
                           "description": "transparent needs png or webp"},
            "moderation": {"type": "string", "enum": list(spec.moderation_levels), "default": "auto"},
        },
    }
