"""The spend guard: a ceiling on what one MCP call may hold, set by whoever deploys or configures the server and
never by the agent (no tool takes it), checked before any job is made.

The amount checked is the hold the API itself takes at submit, computed by the same function
(`PriceTable.reservation_micros`, retouch/billing/prices.py) at the deployment's markup, so a call the guard lets
through cannot hold more than the ceiling. The API still checks the account's credit; the guard only narrows what an
agent may spend per call.
"""

from __future__ import annotations

from dataclasses import dataclass

from retouch.billing.money import format_usd
from retouch.billing.prices import price_table
from retouch.models.requests import GenerationRequest


class SpendLimitExceeded(Exception):
    """The call would hold more than the connection's per-call ceiling; nothing was submitted."""

    def __init__(self, hold_micros: int, limit_micros: int) -> None:
        super().__init__(f"This call would hold {format_usd(hold_micros)}, above this connection's limit of "
                         f"{format_usd(limit_micros)} per call (set by its operator, not by a tool). Ask for fewer or "
                         f"smaller images, or a lower quality.")
        self.hold_micros = hold_micros
        self.limit_micros = limit_micros


@dataclass(frozen=True)
class SpendGuard:
    max_micros_per_call: int | None  # None: only the account's own credit and limits apply
    markup_percent: int | None = None

    def hold_micros(self, options: GenerationRequest) -> int:
        """What the API will hold for these options: the most the job can cost."""
        return price_table(self.markup_percent).reservation_micros(
            options.model, quality=options.quality, size=options.size, n=options.n)

    def check(self, options: GenerationRequest) -> int:
        """The hold, or SpendLimitExceeded when it is above the ceiling."""
        hold = self.hold_micros(options)
        if self.max_micros_per_call is not None and hold > self.max_micros_per_call:
            raise SpendLimitExceeded(hold, self.max_micros_per_call)
        return hold
