"""The timeout of the upstream call being made, when the caller sized it from the request (routing/paid_attempts.py):
a quick request is given less than the upstream's configured timeout, never more."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_sized: ContextVar[float | None] = ContextVar("upstream_call_timeout", default=None)


@contextmanager
def sized_call_timeout(seconds: float | None) -> Iterator[None]:
    """Calls made in this block (this thread) end within `seconds` (None: the upstream's own timeout)."""
    token = _sized.set(seconds)
    try:
        yield
    finally:
        _sized.reset(token)


def call_timeout(configured: float) -> float:
    """The current call's timeout: the sized one, within the upstream's `configured` timeout."""
    sized = _sized.get()
    return configured if sized is None else min(configured, sized)
