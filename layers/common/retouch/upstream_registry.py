"""Every upstream kind, registered once: its capabilities (and so its mode), its adapter factory, the catalog models
it serves under its own names, and its local stand-in (and what `Capabilities` are). Routing validation (which kinds
exist, which routing-entry fields each needs), the submit-time support check, the worker's wiring, the catalog and
the local stack all read this table; adding an upstream is one entry here, its adapter module, its recordings under
tests/fixtures/providers/<kind>/ and its stand-in (docs/adding-an-upstream.md).

Pure data that imports nothing of Retouch, so the catalog and the api function read it without loading any adapter
(httpx, Pillow): an entry names its adapter factory and its stand-in by dotted path ("package.module:name"). The
factory is imported on first use, in the worker (retouch.providers.upstream.build_adapter); the stand-in only by the
local stack (`local.stand_ins.upstreams`): the production package never imports `local`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

Mode = Literal["sync", "async"]
Inputs = Literal["bytes", "url"]
# How the mask marks the area to edit: OpenAI's alpha (transparent = edit) or a black/white image (white = edit).
MaskKind = Literal["alpha", "white_edits"]


@dataclass(frozen=True)
class Capabilities:
    """What one upstream can do for one model, as its documentation states. `sizes` None: any size the model's
    own rules allow (the catalog checks those at submit)."""

    upstream: str
    mode: Mode
    inputs: Inputs
    mask: MaskKind | None
    max_images: int
    max_n: int
    sizes: tuple[str, ...] | None
    qualities: tuple[str, ...]
    output_formats: tuple[str, ...]
    reports_cost: bool
    operations: tuple[str, ...] = ("edit",)
    notes: str = ""

    def table_row(self) -> dict[str, Any]:
        """One row of the upstream x capability table (docs, GET /v1/models)."""
        return {
            "upstream": self.upstream, "mode": self.mode, "inputs": self.inputs,
            "mask": self.mask or "no", "max_images": self.max_images, "max_n": self.max_n,
            "sizes": list(self.sizes) if self.sizes is not None else "model's rules",
            "reports_cost": self.reports_cost, "operations": list(self.operations),
        }


def refusal_of_shape(capabilities: Capabilities, *, operation: str, image_count: int, has_mask: bool,
                     options: dict[str, Any]) -> tuple[str, str] | None:
    """(param, reason) when this upstream cannot serve a request of this shape (how many images, whether a mask, its
    options), as known at submit; None when it can. Adapters check the same before any call
    (retouch.providers.upstream.check)."""
    name = capabilities.upstream
    if operation not in capabilities.operations:
        return "model", f"{name} does not offer image {operation}s"
    if image_count > capabilities.max_images:
        return "image", f"{name} takes at most {capabilities.max_images} input images"
    if has_mask and capabilities.mask is None:
        return "mask", f"{name} does not take a mask"
    n = int(options.get("n") or 1)
    if n > capabilities.max_n:
        return "n", f"{name} makes at most {capabilities.max_n} images per request"
    size = options.get("size") or "auto"
    if capabilities.sizes is not None and size not in capabilities.sizes:
        return "size", f"{name} makes only sizes {', '.join(capabilities.sizes)}"
    quality = options.get("quality") or "auto"
    if quality not in capabilities.qualities:
        return "quality", f"{name} offers only quality {', '.join(capabilities.qualities)}"
    output_format = options.get("output_format") or "png"
    if output_format not in capabilities.output_formats:
        return "output_format", f"{name} returns only {', '.join(capabilities.output_formats)}"
    return None


@dataclass(frozen=True)
class UpstreamEntry:
    """One upstream kind. `adapter` and `stand_in` are "module:attribute" paths (see the module docstring)."""

    capabilities: Capabilities
    adapter: str  # "retouch.providers.<kind>:from_config", a retouch.providers.upstream.AdapterFactory
    stand_in: str  # "local.stand_ins.<kind>:<Class>", a local.stand_ins.stand_in.StandIn subclass
    models: Mapping[str, str]  # catalog model id -> its name at this upstream
    # Routing-entry fields an entry of this kind must set ("deployment": Azure's URL names one).
    route_fields: tuple[str, ...] = ()
    # False when the upstream has no documented URL (each Azure resource has its own): an entry needs a base_url,
    # its own or UpstreamBaseUrls'.
    documented_url: bool = True

    @property
    def kind(self) -> str:
        return self.capabilities.upstream

    @property
    def mode(self) -> Mode:
        return self.capabilities.mode


def load(path: str) -> Any:
    """The attribute a "package.module:name" path names (imported now)."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


_QUALITIES = ("low", "medium", "high", "auto")
_FORMATS = ("png", "jpeg", "webp")

# ModelsLab: our WIDTHxHEIGHT -> its preset. `auto` has no preset (size is required): it becomes square.
# The 2K/4K pixel sizes are those OpenAI's gpt-image-2 makes at those names (assumed: the page lists names only).
SIZE_PRESETS = {
    "auto": "square",
    "1024x1024": "square",
    "1536x1024": "landscape",
    "1024x1536": "protrait",
    "2048x2048": "2K square",
    "2048x1152": "2K landscape",
    "3840x2160": "4K landscape",
    "2160x3840": "4K protrait",
}
# Oxen's `resolution` values.
RESOLUTIONS = ("auto", "1024x768", "1024x1024", "1024x1536", "1920x1080", "2560x1440", "3840x2160")


def _entries(*entries: UpstreamEntry) -> Mapping[str, UpstreamEntry]:
    by_kind = {entry.kind: entry for entry in entries}
    if len(by_kind) != len(entries):
        raise ValueError("an upstream kind is registered twice")
    return MappingProxyType(by_kind)


_OPENAI_MODELS = {"gpt-image-2": "gpt-image-2", "gpt-image-1.5": "gpt-image-1.5",
                  "gpt-image-1-mini": "gpt-image-1-mini"}

UPSTREAMS: Mapping[str, UpstreamEntry] = _entries(
    UpstreamEntry(
        Capabilities(upstream="openai", mode="sync", inputs="bytes", mask="alpha", max_images=16, max_n=10,
                     sizes=None, qualities=_QUALITIES, output_formats=_FORMATS, reports_cost=False,
                     operations=("edit", "generation"), notes="reports tokens (usage), not money"),
        adapter="retouch.providers.openai:from_config",
        stand_in="local.stand_ins.openai_images:OpenAIImagesFake",
        models=_OPENAI_MODELS,
    ),
    UpstreamEntry(
        Capabilities(upstream="azure_openai", mode="sync", inputs="bytes", mask="alpha", max_images=16, max_n=10,
                     sizes=None, qualities=_QUALITIES, output_formats=_FORMATS, reports_cost=False,
                     operations=("edit", "generation"),
                     notes="the deployment fixes the model; sizes follow the deployed model's own rules"),
        adapter="retouch.providers.azure_openai:from_config",
        stand_in="local.stand_ins.azure_openai:AzureOpenAIFake",
        models=_OPENAI_MODELS, route_fields=("deployment",), documented_url=False,
    ),
    UpstreamEntry(
        Capabilities(upstream="aiml", mode="sync", inputs="bytes", mask="alpha", max_images=16, max_n=10,
                     sizes=("auto", "1024x1024", "1024x1536", "1536x1024"), qualities=_QUALITIES,
                     output_formats=_FORMATS, reports_cost=True, operations=("edit", "generation"),
                     notes="size auto -> its default 1024x1024; quality auto -> its default medium"),
        adapter="retouch.providers.aiml:from_config",
        stand_in="local.stand_ins.aiml:AimlFake",
        models={"gpt-image-2": "openai/gpt-image-2"},
    ),
    UpstreamEntry(
        Capabilities(upstream="modelslab", mode="async", inputs="url", mask=None, max_images=14, max_n=1,
                     sizes=tuple(SIZE_PRESETS), qualities=("auto",), output_formats=("png",), reports_cost=False,
                     notes="answers at once or `processing` with fetch_result + eta; flat $0.08 a generation"),
        adapter="retouch.providers.modelslab:from_config",
        stand_in="local.stand_ins.modelslab:ModelsLabFake",
        models={"gpt-image-2": "gpt-image-2-i2i"},
    ),
    UpstreamEntry(
        Capabilities(upstream="oxen", mode="async", inputs="url", mask="white_edits", max_images=16, max_n=1,
                     sizes=RESOLUTIONS, qualities=("auto", "low", "medium", "high"), output_formats=_FORMATS,
                     reports_cost=True,
                     notes="queue + poll every 5 s; `cost` read when the generation carries one; mask converted to "
                           "white = edit"),
        adapter="retouch.providers.oxen:from_config",
        stand_in="local.stand_ins.oxen:OxenFake",
        models={"gpt-image-2": "gpt-image-2-edit"},
    ),
    UpstreamEntry(
        Capabilities(upstream="runflow", mode="sync", inputs="url", mask="alpha", max_images=16, max_n=4,
                     sizes=("auto",), qualities=_QUALITIES, output_formats=_FORMATS, reports_cost=False,
                     notes="sync_mode: images come back as data: URIs; $0.133/image (high), not reported"),
        adapter="retouch.providers.runflow:from_config",
        stand_in="local.stand_ins.runflow:RunflowFake",
        models={"gpt-image-2": "openai/gpt-image-2/edit"},
    ),
    UpstreamEntry(
        Capabilities(upstream="fal", mode="async", inputs="url", mask="alpha", max_images=16, max_n=4, sizes=None,
                     qualities=_QUALITIES, output_formats=_FORMATS, reports_cost=False,
                     notes="queue: submit -> status (202 until COMPLETED) -> result; custom sizes as {width, height}"),
        adapter="retouch.providers.fal:from_config",
        stand_in="local.stand_ins.fal:FalFake",
        models={"gpt-image-2": "openai/gpt-image-2/edit"},
    ),
)

KINDS: tuple[str, ...] = tuple(UPSTREAMS)


def capabilities_of(kind: str) -> Capabilities:
    return UPSTREAMS[kind].capabilities


def served_by(model_id: str) -> tuple[tuple[str, str], ...]:
    """(kind, the model's name there) for each upstream kind serving catalog model `model_id`, in registry order."""
    return tuple((kind, entry.models[model_id]) for kind, entry in UPSTREAMS.items() if model_id in entry.models)


