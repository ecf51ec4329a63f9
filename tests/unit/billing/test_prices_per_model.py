"""Prices per model: OpenAI's per-size table for the fixed-size models, pixel scaling for gpt-image-2."""

from __future__ import annotations

import pytest

from retouch.billing.prices import price_table


@pytest.mark.parametrize(("model", "quality", "size", "micros"), [
    ("gpt-image-1.5", "low", (1024, 1024), 9_000),
    ("gpt-image-1.5", "high", (1536, 1024), 200_000),
    ("gpt-image-1.5", "medium", (1536, 1024), 51_000),  # 1536x1024 lists 0.050, 1024x1536 0.051: the higher
    ("gpt-image-1-mini", "medium", (1024, 1536), 15_000),
    ("gpt-image-1-mini", "auto", (1024, 1024), 36_000),  # auto is priced at the top quality
    ("gpt-image-2", "high", (2048, 2048), 844_000),  # no size table: scaled by pixels from 1024x1024
])
def test_unit_price(model: str, quality: str, size: tuple[int, int], micros: int) -> None:
    width, height = size
    assert price_table().unit_micros(model, quality, width * height) == micros


def test_reservation_and_settlement_of_a_fixed_size_model() -> None:
    prices = price_table()
    reserved = prices.reservation_micros("gpt-image-1-mini", quality="auto", size="auto", n=2)
    produced = prices.produced_micros("gpt-image-1-mini", quality="low", sizes=[(1024, 1024), (1536, 1024)],
                                      markup_percent=None)
    assert (reserved, produced) == (104_000, 11_000)
    assert produced <= reserved


def test_markup_applies_to_listed_prices() -> None:
    assert price_table(25).unit_micros("gpt-image-1.5", "low", 1024 * 1024) == 11_250
