"""A quote: what an edit or generation would hold and is expected to cost, under the current pricing rule, without
creating a job (no credit held, nothing stored). Images are priced by size: an uploaded file's as read, a declared
`{width, height}`, or (a URL, a file not read yet) the most an image can count."""

from __future__ import annotations

from retouch.billing.money import to_usd
from retouch.billing.prices import PriceTable
from retouch.billing.pricing_rule import PricedRequest, expected_charge, hold_charge
from retouch.errors import UnusableFile
from retouch.files.uploads import owned_file
from retouch.models.quotes import DeclaredImage, QuotedImage, QuoteRequest, QuoteView
from retouch.models.requests import FileRef
from retouch.ports import FileRepository


def _size(image: QuotedImage, param: str, account_id: str, files: FileRepository) -> tuple[int, int] | None:
    if isinstance(image, DeclaredImage):
        return image.width, image.height
    if isinstance(image, FileRef):
        record = owned_file(files, account_id, image.file_id)
        if record is None:
            raise UnusableFile(f"No file found with id '{image.file_id}'.", param=f"{param}.file_id",
                               code="file_not_found")
        return (record.width, record.height) if record.width and record.height else None
    return None  # a URL: read only by the worker


def quote(prices: PriceTable, files: FileRepository, account_id: str, request: QuoteRequest) -> QuoteView:
    sizes = [_size(image, f"images[{index}]", account_id, files) for index, image in enumerate(request.images)]
    if request.mask is not None:
        sizes.append(_size(request.mask, "mask", account_id, files))
    priced = PricedRequest(model=request.model, quality=request.quality, size=request.size, n=request.n,
                           prompt=request.prompt, inputs=tuple(sizes),
                           partials=(request.partial_images or 0) if request.stream else 0)
    hold, expected = hold_charge(prices, priced), expected_charge(prices, priced)
    return QuoteView(model=request.model, operation="edit" if request.images else "generation",
                     input_images=len(sizes), hold_usd=to_usd(hold.total_micros), hold_micros=hold.total_micros,
                     expected_usd=to_usd(expected.total_micros), expected_micros=expected.total_micros,
                     hold=hold.view(), expected=expected.view(), pricing_version=prices.version,
                     markup_percent=prices.markup_percent)
