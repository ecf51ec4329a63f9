"""The supported models and their limits: the single place those limits are defined. Which upstreams serve a model,
and under which name, is the upstream registry's to say (retouch.upstream_registry)."""

from __future__ import annotations

from dataclasses import dataclass, field

from retouch.upstream_registry import served_by

MB = 1024 * 1024


@dataclass(frozen=True)
class ModelLimits:
    max_images: int = 16
    max_image_bytes: int = 50 * MB
    # Per input image (and mask), read from its header: bounds the memory a full decode takes (4 bytes a pixel at
    # most, ~200 MB); no photo needs more, and the provider scales inputs down.
    max_image_pixels: int = 50_000_000
    max_mask_bytes: int = 4 * MB
    max_prompt_chars: int = 32_000
    max_n: int = 10
    size_multiple: int = 16
    max_edge: int = 3840
    min_pixels: int = 655_360
    max_pixels: int = 8_294_400
    max_aspect_ratio: float = 3.0
    image_formats: tuple[str, ...] = ("png", "jpeg", "webp")
    # A model with fixed output sizes lists them (besides `auto`); None: any size within the rules above.
    sizes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ModelSpec:
    id: str
    owned_by: str
    created: int
    # Dated snapshot names clients may send (OpenAI's SDKs and docs pin them); served as this model.
    aliases: tuple[str, ...] = ()
    limits: ModelLimits = field(default_factory=ModelLimits)
    qualities: tuple[str, ...] = ("low", "medium", "high", "auto")
    output_formats: tuple[str, ...] = ("png", "jpeg", "webp")
    backgrounds: tuple[str, ...] = ("transparent", "opaque", "auto")
    moderation_levels: tuple[str, ...] = ("low", "auto")
    # Parameters the OpenAI SDK can send that this model does not support: a 400 naming them.
    unsupported_parameters: tuple[str, ...] = (
        "input_fidelity",
        "frame_count",
        "svg",
        "complexity",
        "style",
    )

    @property
    def upstreams(self) -> tuple[tuple[str, str], ...]:
        """(upstream kind, the model's name there) for each upstream serving this model, as the upstream registry
        says (the routing document picks among them)."""
        return served_by(self.id)


GPT_IMAGE_2 = ModelSpec(id="gpt-image-2", owned_by="openai", created=1776729600, aliases=("gpt-image-2-2026-04-21",))
# OpenAI's earlier GPT image models: three fixed sizes (OpenAI's model pages), otherwise the same parameters.
_FIXED_SIZES = ModelLimits(sizes=("1024x1024", "1536x1024", "1024x1536"), max_edge=1536,
                           min_pixels=1024 * 1024, max_pixels=1536 * 1024)
GPT_IMAGE_1_5 = ModelSpec(id="gpt-image-1.5", owned_by="openai", created=1765843200, limits=_FIXED_SIZES)
GPT_IMAGE_1_MINI = ModelSpec(id="gpt-image-1-mini", owned_by="openai", created=1759708800, limits=_FIXED_SIZES)

MODELS: dict[str, ModelSpec] = {spec.id: spec for spec in (GPT_IMAGE_2, GPT_IMAGE_1_5, GPT_IMAGE_1_MINI)}
DEFAULT_MODEL = GPT_IMAGE_2.id
_BY_NAME: dict[str, ModelSpec] = {name: spec for spec in MODELS.values() for name in (spec.id, *spec.aliases)}


# An uploaded file (POST /v1/uploads) is an input image of some model, so no file is larger than the largest one.
MAX_FILE_BYTES = max(spec.limits.max_image_bytes for spec in MODELS.values())


def find_model(model_id: str) -> ModelSpec | None:
    """The model named `model_id` or by one of its aliases."""
    return _BY_NAME.get(model_id)


def known_model(model_id: str) -> ModelSpec:
    """The model of a request or job the request models already checked: a KeyError here is a bug."""
    return _BY_NAME[model_id]
