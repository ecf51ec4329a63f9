"""RFC 7240 `Prefer: wait=N` (or bare `wait`): how long the client is willing to hold the request."""

from __future__ import annotations

import math


def requested_wait(prefer: str | None, max_wait: float, *, wait_by_default: bool = False) -> float | None:
    """Seconds to hold (capped at `max_wait`), or None when the client did not ask to wait. With
    `wait_by_default` (the synchronous entry) a request that names no `wait` holds `max_wait`, unless it says
    `Prefer: respond-async` (RFC 7240: `respond-async, wait=N` still means "wait N, then answer async"). A `wait`
    whose value is not a number of seconds (`wait=abc`, `wait=-1`) is ignored, as RFC 7240 asks of a preference the
    server does not understand: it neither holds nor stops a hold."""
    respond_async = False
    for preference in (prefer or "").split(","):
        name, _, value = preference.split(";")[0].strip().partition("=")
        name = name.strip().lower()
        respond_async = respond_async or name == "respond-async"
        if name != "wait":
            continue
        value = value.strip().strip('"')
        if not value:
            return max_wait
        seconds = _delta_seconds(value)
        if seconds is not None:
            return min(seconds, max_wait)
    return max_wait if wait_by_default and not respond_async else None


def _delta_seconds(value: str) -> float | None:
    """A `wait` value as seconds (fractions are taken too), or None when it is not a finite, non-negative number."""
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None
