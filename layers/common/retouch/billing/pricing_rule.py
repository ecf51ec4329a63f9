"""The pricing rule: what a request holds, what it is expected to cost, and what its job is charged.

A request costs its output images (per image, by size and quality: prices.py) plus its inputs as the upstream bills
them: prompt (text) tokens and input image tokens at the model's rates (prices.json `inputs`). Three applications
of the one rule:

- the **hold** (`hold_micros`, the one function every hold is computed by): the worst case of the request: outputs at
  the most `auto` can resolve to, one token per UTF-8 byte of the prompt, each input image (and the mask) at its
  token count, or at the most an image can count when its size is not known yet (a URL);
- the **expected** charge (`expected_charge`, the quote's): outputs as held, the prompt at the estimate of one token
  per 4 UTF-8 bytes, the images as held;
- the **settled** charge (`settled_charge`): the outputs produced, the input tokens the upstream reported (else the
  estimate), at least an upstream's reported cost (marked up), and never more than the hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from retouch.billing.money import ceil_div, to_usd
from retouch.billing.prices import PartialImageRates, PriceTable
from retouch.models.records import JobRecord, StoredInput

# OpenAI's rule of thumb for English text (about 4 characters a token); the hold never relies on it.
ESTIMATED_BYTES_PER_TOKEN = 4
TOKENS_PER_MILLION = 1_000_000

InputBasis = Literal["reported_tokens", "estimate", "none"]


@dataclass(frozen=True)
class PricedRequest:
    """What the rule reads of a request: its options, its prompt, and its input images' sizes (None: unknown)."""

    model: str
    quality: str | None
    size: str | None
    n: int
    prompt: str
    inputs: tuple[tuple[int, int] | None, ...] = ()
    partials: int = 0  # partial images asked for per image (a streamed request's `partial_images`)

    @classmethod
    def of_job(cls, job: JobRecord) -> PricedRequest:
        request = job.request
        stored = [*job.inputs, *([job.mask] if job.mask is not None else [])]
        return cls(model=job.model, quality=request.get("quality"), size=request.get("size"),
                   n=int(request.get("n", 1)), prompt=str(request.get("prompt") or ""),
                   inputs=tuple(_size_of(item) for item in stored),
                   partials=_count(request.get("partial_images")) or 0)


def _size_of(item: StoredInput) -> tuple[int, int] | None:
    return (item.width, item.height) if item.width and item.height else None


@dataclass(frozen=True)
class InputTokens:
    text: int
    image: int


@dataclass(frozen=True)
class Charge:
    """One application of the rule. Amounts in micro-dollars; `total_micros` is what is held or charged."""

    outputs_micros: int  # marked up
    inputs_micros: int  # marked up
    inputs_cost_micros: int  # the inputs at the upstream's rates, before markup (what `margin` shows as input cost)
    tokens: InputTokens
    basis: InputBasis
    total_micros: int
    capped: bool = False  # settled above the hold, charged the hold
    partials_micros: int = 0  # partial images' output tokens, marked up (included in total_micros)

    def stored(self) -> dict[str, Any]:
        """The job's `usage.pricing` (integers and names only)."""
        return {"outputs_micros": self.outputs_micros, "inputs_micros": self.inputs_micros,
                "inputs_cost_micros": self.inputs_cost_micros, "input_text_tokens": self.tokens.text,
                "input_image_tokens": self.tokens.image, "input_basis": self.basis, "capped": self.capped,
                "partials_micros": self.partials_micros}

    def view(self) -> dict[str, Any]:
        """The breakdown clients see (a quote, a job's usage)."""
        return {"outputs_usd": to_usd(self.outputs_micros), "inputs_usd": to_usd(self.inputs_micros),
                "input_text_tokens": self.tokens.text, "input_image_tokens": self.tokens.image,
                "input_basis": self.basis, "total_usd": to_usd(self.total_micros), "capped_at_hold": self.capped,
                "partial_images_usd": to_usd(self.partials_micros)}


def hold_micros(prices: PriceTable, request: PricedRequest) -> int:
    """What a request holds: the worst case of its outputs, prompt and inputs. The one function every hold (the
    account's, and any other taken for the same job) is computed by."""
    return hold_charge(prices, request).total_micros


def job_hold_micros(prices: PriceTable, job: JobRecord) -> int:
    """`hold_micros` of a job record as submitted."""
    return hold_micros(prices, PricedRequest.of_job(job))


def hold_charge(prices: PriceTable, request: PricedRequest) -> Charge:
    tokens = InputTokens(text=len(request.prompt.encode()), image=_image_tokens(prices, request))
    return _charge(prices, request, _held_outputs(prices, request), tokens, "estimate", prices.markup_percent,
                   partials=_held_partials(request))


def expected_charge(prices: PriceTable, request: PricedRequest) -> Charge:
    """The quote: outputs as held, inputs at the estimate."""
    return _charge(prices, request, _held_outputs(prices, request), _estimated_tokens(prices, request), "estimate",
                   prices.markup_percent, partials=_held_partials(request))


def settled_charge(prices: PriceTable, job: JobRecord, *, quality: str | None, sizes: list[tuple[int, int]],
                   usage: dict[str, Any] | None, reported_cost_micros: int | None) -> Charge:
    """A succeeded job's charge: the outputs produced, the inputs as the upstream reported them (else estimated),
    at least the upstream's reported cost marked up, at most the job's hold."""
    request = PricedRequest.of_job(job)
    markup = prices.markup_percent if job.markup_percent is None else job.markup_percent
    outputs = prices.produced_micros(job.model, quality=quality, sizes=sizes, markup_percent=markup)
    reported = reported_input_tokens(usage)
    tokens = reported if reported is not None else _estimated_tokens(prices, request)
    charge = _charge(prices, request, outputs, tokens, "reported_tokens" if reported is not None else "estimate",
                     markup, partials=_count((usage or {}).get("partial_images")) or 0)
    total = charge.total_micros
    if reported_cost_micros is not None:
        total = max(total, ceil_div(reported_cost_micros * (100 + markup), 100))
    held = job.reserved_micros or 0
    if total > held:
        return Charge(charge.outputs_micros, charge.inputs_micros, charge.inputs_cost_micros, tokens, charge.basis,
                      held, capped=True, partials_micros=charge.partials_micros)
    return Charge(charge.outputs_micros, charge.inputs_micros, charge.inputs_cost_micros, tokens, charge.basis, total,
                  partials_micros=charge.partials_micros)


def reported_input_tokens(usage: dict[str, Any] | None) -> InputTokens | None:
    """The input tokens an OpenAI-style `usage` reports: `input_tokens_details` {text_tokens, image_tokens}, or only
    `input_tokens` (then all taken as image tokens, the dearer kind); None when it reports none."""
    if not usage:
        return None
    details = usage.get("input_tokens_details")
    if isinstance(details, dict):
        text, image = _count(details.get("text_tokens")), _count(details.get("image_tokens"))
        if text is not None and image is not None:
            return InputTokens(text=text, image=image)
    total = _count(usage.get("input_tokens"))
    return InputTokens(text=0, image=total) if total is not None else None


def _count(value: Any) -> int | None:
    """A token count as reported (a non-negative integer), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _held_outputs(prices: PriceTable, request: PricedRequest) -> int:
    return prices.reservation_micros(request.model, quality=request.quality, size=request.size, n=request.n)


def _held_partials(request: PricedRequest) -> int:
    """The most partial images a request can be billed for: those asked for, per image."""
    return request.partials * request.n


def _image_tokens(prices: PriceTable, request: PricedRequest) -> int:
    rates = prices.model_prices(request.model).inputs
    if rates is None:
        return 0
    rule = rates.image_tokens
    return sum(rule.tokens(*size) if size is not None else rule.most for size in request.inputs)


def _estimated_tokens(prices: PriceTable, request: PricedRequest) -> InputTokens:
    return InputTokens(text=ceil_div(len(request.prompt.encode()), ESTIMATED_BYTES_PER_TOKEN),
                       image=_image_tokens(prices, request))


def _charge(prices: PriceTable, request: PricedRequest, outputs: int, tokens: InputTokens, basis: InputBasis,
            markup: int, *, partials: int = 0) -> Charge:
    model = prices.model_prices(request.model)
    partials_micros = _partials_micros(model.partials, partials, markup)
    rates = model.inputs
    if rates is None:
        return Charge(outputs, 0, 0, tokens, "none", outputs + partials_micros, partials_micros=partials_micros)
    cost = tokens.text * rates.text_per_million + tokens.image * rates.image_per_million  # micro-dollars x 1M
    inputs = ceil_div(cost * (100 + markup), 100 * TOKENS_PER_MILLION)
    total = outputs + inputs + partials_micros
    return Charge(outputs, inputs, ceil_div(cost, TOKENS_PER_MILLION), tokens, basis, total,
                  partials_micros=partials_micros)


def _partials_micros(rates: PartialImageRates | None, partials: int, markup: int) -> int:
    """Partial images as the upstream bills them (image output tokens each, on top of the image), marked up."""
    if rates is None or partials <= 0:
        return 0
    return ceil_div(partials * rates.tokens_each * rates.output_per_million * (100 + markup), 100 * TOKENS_PER_MILLION)
