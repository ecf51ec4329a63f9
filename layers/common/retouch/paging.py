"""Paged listings (the ledger, files): the `limit` and `after` query parameters, read the same way everywhere."""

from __future__ import annotations

from retouch.errors import InvalidRequest

DEFAULT_PAGE = 20
MAX_PAGE = 100


def page_size(limit: str | None) -> int:
    """`limit` as a page size (default 20, 1-100), or a 400 naming it."""
    try:
        size = int(limit) if limit else DEFAULT_PAGE
    except ValueError:
        raise InvalidRequest("'limit' must be an integer.", param="limit") from None
    if not 1 <= size <= MAX_PAGE:
        raise InvalidRequest(f"'limit' must be between 1 and {MAX_PAGE}.", param="limit")
    return size


def invalid_cursor() -> InvalidRequest:
    """What a cursor that is not the previous page's `next_cursor` (or is another account's) gets."""
    return InvalidRequest("'after' is not a cursor from this endpoint.", param="after")
