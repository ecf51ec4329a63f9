"""The spend guard: a ceiling on what one MCP call may hold, set by whoever deploys or configures the server and
never by the agent (no tool takes it), checked before any job is made.

The amount checked is the hold the API itself takes at submit, computed by the same function
(`hold_micros`, retouch/billing/pricing_rule.py: outputs, prompt and input images) at the deployment's markup, so a
call the guard lets through cannot hold more than the ceiling. An edit's images are counted at the most one image can
cost (their sizes are not read here), so the guard may refuse an edit of small uploads the API would hold less for:
it errs on the side of the ceiling. The API still checks the account's credit; the guard only narrows what an
agent may spend per call.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from retouch.billing.money import format_usd
from retouch.billing.prices import price_table
from retouch.billing.pricing_rule import PricedRequest, hold_micros
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

    def hold_micros(self, options: GenerationRequest, input_images: int = 0) -> int:
        """What the API will hold for these options and `input_images` images (mask included) of unknown size: the
        most the job can cost."""
        request = PricedRequest(model=options.model, quality=options.quality, size=options.size, n=options.n,
                                prompt=options.prompt, inputs=(None,) * input_images)
        return hold_micros(price_table(self.markup_percent), request)

    def narrowed_to(self, key_ceiling_micros: int | None) -> SpendGuard:
        """This guard for a caller whose key has its own ceiling: the lower of the two applies, so a key's ceiling can
        only narrow the deployment's, never raise it."""
        if key_ceiling_micros is None:
            return self
        ceilings = [c for c in (self.max_micros_per_call, key_ceiling_micros) if c is not None]
        return replace(self, max_micros_per_call=min(ceilings))

    def check(self, options: GenerationRequest, input_images: int = 0) -> int:
        """The hold, or SpendLimitExceeded when it is above the ceiling."""
        hold = self.hold_micros(options, input_images)
        if self.max_micros_per_call is not None and hold > self.max_micros_per_call:
            raise SpendLimitExceeded(hold, self.max_micros_per_call)
        return hold
