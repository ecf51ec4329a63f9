"""A quote's price: what an edit or generation would hold and is expected to cost, under the current pricing rule,
without creating a job (no credit held, nothing stored). Images are priced by size: as read (an uploaded file, a
data: URL), as declared (`{width, height}`), or (a URL, read only by the worker) at the most an image can count.
The request is checked as its submit would check it before it is priced (retouch/jobs/quote.py)."""

from __future__ import annotations

from collections.abc import Sequence

from retouch.billing.money import to_usd
from retouch.billing.prices import PriceTable
from retouch.billing.pricing_rule import PricedRequest, expected_charge, hold_charge
from retouch.models.quotes import QuoteRequest, QuoteView


def quote(prices: PriceTable, request: QuoteRequest, inputs: Sequence[tuple[int, int] | None]) -> QuoteView:
    """`request`'s hold and expected charge; `inputs`: the size of each input image and the mask (None: unknown)."""
    priced = PricedRequest(model=request.model, quality=request.quality, size=request.size, n=request.n,
                           prompt=request.prompt, inputs=tuple(inputs),
                           partials=(request.partial_images or 0) if request.stream else 0)
    hold, expected = hold_charge(prices, priced), expected_charge(prices, priced)
    return QuoteView(model=request.model, operation="edit" if request.images else "generation",
                     input_images=len(inputs), hold_usd=to_usd(hold.total_micros), hold_micros=hold.total_micros,
                     expected_usd=to_usd(expected.total_micros), expected_micros=expected.total_micros,
                     hold=hold.view(), expected=expected.view(), pricing_version=prices.version,
                     markup_percent=prices.markup_percent)
