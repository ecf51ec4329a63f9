"""A quote (POST /v1/images/quote): the request checked as its submit checks it (jobs/request_checks.py: the same
400s), then priced (billing/quotes.py); no job is created, nothing is held or stored."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from retouch.billing.prices import PriceTable
from retouch.billing.quotes import quote
from retouch.jobs.request_checks import CheckedInput, check_request
from retouch.models.quotes import QuoteRequest, QuoteView
from retouch.models.requests import ImageOptions
from retouch.models.webhooks import JobWebhook
from retouch.ports import FileRepository, ObjectStore

if TYPE_CHECKING:
    from retouch.routing.support import UpstreamSupport


@dataclass(frozen=True)
class QuoteDeps:
    """The submit's checkers (the api wires the same ones as its SubmitDeps') and the price table it holds with."""

    prices: PriceTable  # the price file's, with the deployment's markup
    files: FileRepository  # uploaded files named by `file_id`: checked as the edit checks them, priced as read
    store: ObjectStore
    webhook_for: Callable[[str, ImageOptions], JobWebhook | None]
    upstream_support: UpstreamSupport


def _size(checked: CheckedInput) -> tuple[int, int] | None:
    dimensions = checked.dimensions
    return (dimensions.width, dimensions.height) if dimensions is not None else None


def quote_request(account_id: str, request: QuoteRequest, deps: QuoteDeps) -> QuoteView:
    """What a job of `request` would hold and is expected to cost, once it passes the submit's checks."""
    checked = check_request(account_id, request, deps)
    inputs = [*checked.images, *([checked.mask] if checked.mask is not None else [])]
    return quote(deps.prices, request, [_size(image) for image in inputs])
