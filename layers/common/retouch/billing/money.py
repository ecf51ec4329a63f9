"""Money is integer micro-dollars everywhere it is stored or computed; dollars only at the edges."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

MICROS_PER_USD = 1_000_000


def ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def to_usd(micros: int) -> float:
    """For JSON responses only (6 decimals are exact at this scale); never stored, never summed."""
    return round(micros / MICROS_PER_USD, 6)


def from_usd(amount: float) -> int:
    """A dollar amount as a JSON response gives it (`to_usd`'s float) back as micro-dollars, to the nearest."""
    return round(Decimal(str(amount)) * MICROS_PER_USD)


def format_usd(micros: int) -> str:
    sign = "-" if micros < 0 else ""
    whole, fraction = divmod(abs(micros), MICROS_PER_USD)
    return f"{sign}${whole}.{fraction:06d}"


def parse_usd(text: str) -> int:
    """'12.50' or '$0.006' -> micro-dollars, exactly; more than 6 decimals is an error, not a rounding."""
    try:
        amount = Decimal(text.strip().lstrip("$")) * MICROS_PER_USD
    except InvalidOperation as exc:
        raise ValueError(f"not an amount in dollars: {text!r}") from exc
    if not amount.is_finite() or amount != amount.to_integral_value():
        raise ValueError(f"amounts are exact to the micro-dollar (6 decimals): {text!r}")
    return int(amount)
