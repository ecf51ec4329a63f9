"""The price table: `prices.json` (versioned with the code) plus the deployment's markup.

Rules (also stated in the file): amounts are per 1024x1024 image; other sizes scale by pixel count, rounded
up to the micro-dollar; `auto` quality/size reserve at the most they can resolve to; settlement prices
what was produced and never exceeds the reservation.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from math import ceil
from pathlib import Path
from typing import Any

from retouch.billing.money import ceil_div, to_usd

PRICES_FILE = Path(__file__).with_name("prices.json")
_SIZE = re.compile(r"^(\d+)x(\d+)$")


def pixels_of(size: str) -> int:
    match = _SIZE.match(size)
    if not match:
        raise ValueError(f"not a WIDTHxHEIGHT size: {size!r}")
    return int(match.group(1)) * int(match.group(2))


@dataclass(frozen=True)
class ImageTokenRule:
    """How many input tokens one input image counts (prices.json `image_tokens_rule`)."""

    base: int
    per_tile: int
    tile: int
    max_edge: int
    short_edge: int
    fidelity_square: int = 0
    fidelity_other: int = 0

    def tokens(self, width: int, height: int) -> int:
        scale = min(1.0, self.max_edge / max(width, height))
        scale *= min(1.0, self.short_edge / (min(width, height) * scale))
        tiles = ceil_div(ceil(width * scale), self.tile) * ceil_div(ceil(height * scale), self.tile)
        return self.base + self.per_tile * tiles + (self.fidelity_square if width == height else self.fidelity_other)

    @property
    def most(self) -> int:
        """The most one image can count (its size unknown): the short edge at its cap, the long one at max_edge."""
        long_tiles = ceil_div(self.max_edge, self.tile)
        short_tiles = ceil_div(self.short_edge, self.tile)
        return self.base + self.per_tile * long_tiles * short_tiles + max(self.fidelity_square, self.fidelity_other)


@dataclass(frozen=True)
class InputRates:
    """What the upstream bills for a request's inputs, in micro-dollars per million tokens."""

    text_per_million: int
    image_per_million: int
    image_tokens: ImageTokenRule


@dataclass(frozen=True)
class PartialImageRates:
    """What the upstream bills for a streamed request's partial images: image output tokens on top of the image."""

    output_per_million: int  # micro-dollars per million image output tokens
    tokens_each: int


@dataclass(frozen=True)
class ModelPrices:
    base_size: str
    auto_size: str
    quality: dict[str, int]
    # Per listed size (fixed-size models): {size: {quality: amount}}; empty: every size scales from base_size.
    sizes: dict[str, dict[str, int]] = field(default_factory=dict)
    inputs: InputRates | None = None  # None: inputs are free (an upstream that bills per output image only)
    partials: PartialImageRates | None = None  # None: partial images are free

    def listed_amount(self, quality: str, pixels: int) -> int | None:
        """The listed price of a size with `pixels` pixels (the higher one when two orientations share them)."""
        amounts = [table[quality] for size, table in self.sizes.items() if pixels_of(size) == pixels]
        return max(amounts) if amounts else None

    @property
    def base_pixels(self) -> int:
        return pixels_of(self.base_size)

    @property
    def top_quality(self) -> str:
        return max(self.quality, key=self.quality.__getitem__)


@dataclass(frozen=True)
class PriceTable:
    version: str
    markup_percent: int
    models: dict[str, ModelPrices]

    def with_markup(self, markup_percent: int | None) -> PriceTable:
        if markup_percent is None:
            return self
        return PriceTable(version=self.version, markup_percent=markup_percent, models=self.models)

    def model_prices(self, model: str) -> ModelPrices:
        return self._model(model)

    def _model(self, model: str) -> ModelPrices:
        try:
            return self.models[model]
        except KeyError:
            raise LookupError(f"no prices for model {model!r} in {PRICES_FILE.name}") from None

    def unit_micros(self, model: str, quality: str, pixels: int, markup_percent: int | None = None) -> int:
        """One image of `pixels` at `quality`: scaled by pixel count, marked up, rounded up."""
        prices = self._model(model)
        markup = self.markup_percent if markup_percent is None else markup_percent
        reserved = self.reserved_quality(model, quality)
        listed = prices.listed_amount(reserved, pixels)
        if listed is not None:
            return ceil_div(listed * (100 + markup), 100)
        return ceil_div(prices.quality[reserved] * pixels * (100 + markup), prices.base_pixels * 100)

    def reserved_quality(self, model: str, quality: str | None) -> str:
        """The quality a price is taken at: `auto` (or anything unlisted) is the most expensive one."""
        prices = self._model(model)
        return quality if quality in prices.quality else prices.top_quality

    def reserved_pixels(self, model: str, size: str | None) -> int:
        prices = self._model(model)
        if not size or size == "auto":
            return pixels_of(prices.auto_size)
        return pixels_of(size)

    def reservation_micros(self, model: str, *, quality: str | None, size: str | None, n: int) -> int:
        """What a job holds at submit: n x the unit price at the most its `auto` values can resolve to."""
        return n * self.unit_micros(model, quality or "auto", self.reserved_pixels(model, size))

    def produced_micros(self, model: str, *, quality: str | None, sizes: list[tuple[int, int]],
                        markup_percent: int | None) -> int:
        """What the images actually produced cost (quality as resolved by the provider, size as measured)."""
        return sum(self.unit_micros(model, quality or "auto", width * height, markup_percent)
                   for width, height in sizes)

    def listing(self, model: str) -> dict[str, Any] | None:
        """The `pricing` block of GET /v1/models."""
        prices = self.models.get(model)
        if prices is None:
            return None
        per_image = {q: self.unit_micros(model, q, prices.base_pixels) for q in prices.quality}
        return {
            "version": self.version,
            "currency": "usd",
            "markup_percent": self.markup_percent,
            "base_size": prices.base_size,
            "per_image_usd": {q: to_usd(v) for q, v in per_image.items()},
            "per_image_micros": per_image,
            "per_size_usd": {size: {q: to_usd(self.unit_micros(model, q, pixels_of(size))) for q in table}
                             for size, table in prices.sizes.items()},
            "size_rule": "price x (width x height) / pixels of base_size, rounded up to the micro-dollar",
            "auto": f"reserved at quality '{prices.top_quality}' and size {prices.auto_size}; "
                    "settled at what was produced",
            "inputs": self._inputs_listing(prices.inputs),
        }

    def _inputs_listing(self, rates: InputRates | None) -> dict[str, Any] | None:
        """How a request's prompt and input images are priced (None: they are free)."""
        if rates is None:
            return None
        markup = 100 + self.markup_percent
        rule = rates.image_tokens
        return {
            "text_per_million_tokens_usd": to_usd(ceil_div(rates.text_per_million * markup, 100)),
            "image_per_million_tokens_usd": to_usd(ceil_div(rates.image_per_million * markup, 100)),
            "image_tokens": {"base": rule.base, "per_tile": rule.per_tile, "tile": rule.tile,
                             "max_edge": rule.max_edge, "short_edge": rule.short_edge,
                             "fidelity_square": rule.fidelity_square, "fidelity_other": rule.fidelity_other,
                             "most_per_image": rule.most},
            "hold": "outputs at the most `auto` resolves to + one token per UTF-8 byte of the prompt + each input "
                    "image and the mask at its token count (most_per_image when its size is not known)",
            "settle": "outputs as produced + the input tokens the upstream reports (else one token per 4 UTF-8 "
                      "bytes of the prompt and each image's count), at least an upstream's reported cost marked "
                      "up, never more than the hold",
        }


def parse_prices(document: dict[str, Any]) -> PriceTable:
    models = {
        name: ModelPrices(base_size=spec["base_size"], auto_size=spec["auto_size"],
                          quality={q: int(v) for q, v in spec["quality"].items()},
                          sizes={size: {q: int(v) for q, v in table.items()}
                                 for size, table in spec.get("sizes", {}).items()},
                          inputs=_input_rates(spec.get("inputs")),
                          partials=_partial_rates(spec.get("partial_images")))
        for name, spec in document["models"].items()
    }
    return PriceTable(version=str(document["version"]), markup_percent=int(document.get("markup_percent", 0)),
                      models=models)


def _input_rates(spec: dict[str, Any] | None) -> InputRates | None:
    if spec is None:
        return None
    return InputRates(text_per_million=int(spec["text_input_per_million_tokens"]),
                      image_per_million=int(spec["image_input_per_million_tokens"]),
                      image_tokens=ImageTokenRule(**{k: int(v) for k, v in spec["image_tokens"].items()}))


def _partial_rates(spec: dict[str, Any] | None) -> PartialImageRates | None:
    if spec is None:
        return None
    return PartialImageRates(output_per_million=int(spec["image_output_per_million_tokens"]),
                             tokens_each=int(spec["tokens_each"]))


@cache
def _file_prices() -> PriceTable:
    return parse_prices(json.loads(PRICES_FILE.read_text()))


def price_table(markup_percent: int | None = None) -> PriceTable:
    """The repository's prices, with the deployment's markup when it sets one."""
    return _file_prices().with_markup(markup_percent)
