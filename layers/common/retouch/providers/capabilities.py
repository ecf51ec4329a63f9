"""What each upstream can do, as its documentation states: pure data, so the api can check a request against a
model's routed upstreams at submit (a 400 naming the parameter none supports) without loading any adapter (httpx,
Pillow). Each adapter module declares its `CAPABILITIES` from here and refuses the same way before any call."""

from __future__ import annotations

from retouch.providers.upstream import Capabilities

# Our WIDTHxHEIGHT -> its preset. `auto` has no preset (size is required): it becomes square.
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

OPENAI = Capabilities(
    upstream="openai", mode="sync", inputs="bytes", mask="alpha", max_images=16, max_n=10, sizes=None,
    qualities=("low", "medium", "high", "auto"), output_formats=("png", "jpeg", "webp"), reports_cost=False,
    operations=("edit", "generation"), notes="reports tokens (usage), not money",
)

AZURE_OPENAI = Capabilities(
    upstream="azure_openai", mode="sync", inputs="bytes", mask="alpha", max_images=16, max_n=10, sizes=None,
    qualities=("low", "medium", "high", "auto"), output_formats=("png", "jpeg", "webp"), reports_cost=False,
    operations=("edit", "generation"),
    notes="the deployment fixes the model; sizes follow the deployed model's own rules",
)

AIML = Capabilities(
    upstream="aiml", mode="sync", inputs="bytes", mask="alpha", max_images=16, max_n=10,
    sizes=("auto", "1024x1024", "1024x1536", "1536x1024"), qualities=("low", "medium", "high", "auto"),
    output_formats=("png", "jpeg", "webp"), reports_cost=True, operations=("edit", "generation"),
    notes="size auto -> its default 1024x1024; quality auto -> its default medium",
)

MODELSLAB = Capabilities(
    upstream="modelslab", mode="async", inputs="url", mask=None, max_images=14, max_n=1,
    sizes=tuple(SIZE_PRESETS), qualities=("auto",), output_formats=("png",), reports_cost=False,
    notes="answers at once or `processing` with fetch_result + eta; flat $0.08 a generation",
)

OXEN = Capabilities(
    upstream="oxen", mode="async", inputs="url", mask="white_edits", max_images=16, max_n=1, sizes=RESOLUTIONS,
    qualities=("auto", "low", "medium", "high"), output_formats=("png", "jpeg", "webp"), reports_cost=True,
    notes="queue + poll every 5 s; `cost` read when the generation carries one; mask converted to white = edit",
)

RUNFLOW = Capabilities(
    upstream="runflow", mode="sync", inputs="url", mask="alpha", max_images=16, max_n=4, sizes=("auto",),
    qualities=("low", "medium", "high", "auto"), output_formats=("png", "jpeg", "webp"), reports_cost=False,
    notes="sync_mode: images come back as data: URIs; $0.133/image (high), not reported",
)

FAL = Capabilities(
    upstream="fal", mode="async", inputs="url", mask="alpha", max_images=16, max_n=4, sizes=None,
    qualities=("low", "medium", "high", "auto"), output_formats=("png", "jpeg", "webp"), reports_cost=False,
    notes="queue: submit -> status (202 until COMPLETED) -> result; custom sizes as {width, height}",
)

BY_KIND: dict[str, Capabilities] = {c.upstream: c for c in (OPENAI, AZURE_OPENAI, AIML, MODELSLAB, OXEN, RUNFLOW, FAL)}
