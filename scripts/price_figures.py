"""Figures, not tests: the worst-case request of #24 finding 2 (an edit of 16 1024x1024 inputs and a 24,000-character
prompt, low 1024x1024, gpt-image-2), its upstream cost by OpenAI's token rates and tile count, and what Retouch
holds and charges for it under the pricing rule, beside the output-only price it was sold at before.

Run: .venv/bin/python -m scripts.price_figures
"""

from __future__ import annotations

import sys
from math import ceil
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "common"))

from retouch.billing.money import format_usd
from retouch.billing.prices import price_table
from retouch.billing.pricing_rule import PricedRequest, hold_micros, settled_charge
from retouch.models.records import JobRecord, StoredInput

PROMPT = ("Place every product from the reference photos on one wooden shelf, keep each label legible, "
          "match the lighting. " * 240)[:24_000]
INPUTS, SIDE = 16, 1024
TEXT_MICROS_PER_TOKEN, IMAGE_MICROS_PER_TOKEN = 5, 8  # $5 and $8 per million tokens
OUTPUT_MICROS = 6_000


def openai_tile_tokens(width: int, height: int) -> int:
    return 65 + 129 * ceil(min(width, 2048) / 512) * ceil(min(height, 2048) / 512)


def main() -> None:
    prices = price_table(0)
    text_tokens = ceil(len(PROMPT) / 4)
    image_tokens = INPUTS * openai_tile_tokens(SIDE, SIDE)
    upstream = text_tokens * TEXT_MICROS_PER_TOKEN + image_tokens * IMAGE_MICROS_PER_TOKEN + OUTPUT_MICROS
    before = prices.reservation_micros("gpt-image-2", quality="low", size="1024x1024", n=1)
    job = JobRecord(job_id="job_figures", account_id="acct_figures", kind="edit", status="running",
                    model="gpt-image-2", request={"quality": "low", "size": "1024x1024", "n": 1, "prompt": PROMPT},
                    inputs=[StoredInput(key=f"k{i}", width=SIDE, height=SIDE) for i in range(INPUTS)],
                    created_at=0, expires_at=1, markup_percent=0)
    job.reserved_micros = hold_micros(prices, PricedRequest.of_job(job))
    reported = {"input_tokens_details": {"text_tokens": text_tokens, "image_tokens": image_tokens}}
    on_usage = settled_charge(prices, job, quality="low", sizes=[(1024, 1024)], usage=reported,
                              reported_cost_micros=None)
    on_estimate = settled_charge(prices, job, quality="low", sizes=[(1024, 1024)], usage=None,
                                 reported_cost_micros=None)
    print(f"request: edit, {INPUTS} x {SIDE}x{SIDE} inputs, {len(PROMPT):,}-character prompt, low 1024x1024, "
          "gpt-image-2, markup 0")
    print(f"upstream cost (OpenAI rates, {text_tokens:,} text + {image_tokens:,} image tokens + output): "
          f"{format_usd(upstream)}")
    print(f"before: held and charged {format_usd(before)} ({upstream / before:.1f}x below cost)")
    print(f"after:  hold {format_usd(job.reserved_micros)}; charged {format_usd(on_usage.total_micros)} on reported "
          f"usage, {format_usd(on_estimate.total_micros)} on the estimate (no usage reported)")


if __name__ == "__main__":
    main()
