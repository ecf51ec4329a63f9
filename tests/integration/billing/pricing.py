"""What the pricing rule holds and charges for the low 1024x1024 generations these tests submit: the output price
plus the prompt (held at one token per byte, charged at the estimate, as the in-process fake provider reports no
input tokens). The rule itself is pinned by tests/unit/billing/test_pricing_rule.py."""

from __future__ import annotations

from retouch.billing.prices import price_table
from retouch.billing.pricing_rule import PricedRequest, expected_charge, hold_micros

LOW_1024 = 6_000  # gpt-image-2, low, 1024x1024, no markup: one output image
DEFAULT_PROMPT = "a lighthouse at dawn"  # tests.builders.generation_payload's


def _request(prompt: str, n: int) -> PricedRequest:
    return PricedRequest(model="gpt-image-2", quality="low", size="1024x1024", n=n, prompt=prompt)


def low_1024_hold(prompt: str = DEFAULT_PROMPT, n: int = 1) -> int:
    return hold_micros(price_table(), _request(prompt, n))


def low_1024_charge(prompt: str = DEFAULT_PROMPT, n: int = 1) -> int:
    """n images produced, the prompt's tokens estimated."""
    return expected_charge(price_table(), _request(prompt, n)).total_micros
