"""The console's session cookie: its name, and reading its secret from a request's cookies (payload 2.0 events carry
them as `name=value` strings in `cookies`)."""

from __future__ import annotations

from collections.abc import Iterable

SESSION_COOKIE = "__Host-retouch_session"


def session_secret(cookies: Iterable[str]) -> str | None:
    """The session cookie's value; None when absent or empty. Several (a stale one beside a new one) take the first,
    as browsers send the most specific first."""
    for cookie in cookies:
        name, separator, value = cookie.strip().partition("=")
        if separator and name == SESSION_COOKIE and value:
            return value
    return None
