"""What an operator's credit adjustment accepts (models/console_routes.py CreditAdjustmentRequest): an amount written
as plain ASCII decimal (an optional leading minus, at most 6 decimals) or a JSON number, and a reason of printable
characters. Other digits (Arabic-Indic, full-width), padding, signs, exponents and control characters are refused:
the reason is shown to the customer in their ledger."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from retouch.models.console_routes import CreditAdjustmentRequest

REASON = "goodwill for incident 12"


@pytest.mark.parametrize(("amount", "expected"), [
    ("25.00", Decimal("25.00")), ("-2.345678", Decimal("-2.345678")), ("12", Decimal(12)), ("0.5", Decimal("0.5")),
    (25, Decimal(25)), (-1.25, Decimal("-1.25")),
], ids=["cents", "micro-dollars-negative", "whole", "fraction", "json-int", "json-float"])
def test_plain_decimal_amounts_are_accepted(amount: Any, expected: Decimal) -> None:
    assert CreditAdjustmentRequest.model_validate({"amount_usd": amount, "reason": REASON}).amount_usd == expected


@pytest.mark.parametrize("amount", [
    "\u0661\u0662",  # Arabic-Indic "12"
    "\u0665.\u0660\u0660",  # Arabic-Indic "5.00"
    "\uff15",  # full-width 5
    " 5 ", "5 ", " 5", "\t5", "5\n",
    "+5", "1e2", "5.", ".5", "1_000", "1,000", "--5", "-", "", "NaN", "Infinity", "0x10",
    "1.0000001", True,
], ids=["arabic-indic", "arabic-indic-cents", "full-width", "padded", "trailing-space", "leading-space", "tab",
        "newline", "plus", "exponent", "trailing-dot", "leading-dot", "underscore", "comma", "double-minus",
        "minus-only", "empty", "nan", "infinity", "hex", "sub-micro", "bool"])
def test_anything_but_plain_ascii_decimal_is_refused(amount: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        CreditAdjustmentRequest.model_validate({"amount_usd": amount, "reason": REASON})
    assert refused.value.errors()[0]["loc"] == ("amount_usd",)


@pytest.mark.parametrize("reason", [
    "goodwill\x00credit", "line\nbreak inside", "tab\tinside", "\x1b[31mred\x1b[0m", "bell\x07", "del\x7fete",
    "bidi \u202eoverride", "zero\u200bwidth", "line\u2028separator",
], ids=["nul", "newline", "tab", "escape", "bell", "delete", "bidi-override", "zero-width-space", "line-separator"])
def test_a_reason_with_control_or_invisible_characters_is_refused(reason: str) -> None:
    with pytest.raises(ValidationError) as refused:
        CreditAdjustmentRequest.model_validate({"amount_usd": "5", "reason": reason})
    assert refused.value.errors()[0]["loc"] == ("reason",)


@pytest.mark.parametrize("reason", ["goodwill for incident 12", "Gutschrift für Störung", "退款 #12", "refund 🙏"])
def test_a_printable_reason_in_any_script_is_kept(reason: str) -> None:
    assert CreditAdjustmentRequest.model_validate({"amount_usd": "5", "reason": reason}).reason == reason
