"""RFC 7240 `Prefer: wait=N` (or bare `wait`): how long the client is willing to hold the request."""

from __future__ import annotations


def requested_wait(prefer: str | None, max_wait: float) -> float | None:
    """Seconds to hold (capped at `max_wait`), or None when the client did not ask to wait."""
    if not prefer:
        return None
    for preference in prefer.split(","):
        token, _, value = preference.split(";")[0].strip().partition("=")
        if token.strip().lower() != "wait":
            continue
        value = value.strip().strip('"')
        if not value:
            return max_wait
        try:
            return max(0.0, min(float(value), max_wait))
        except ValueError:
            return None
    return None
