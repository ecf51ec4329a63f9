"""Cross-site request forgery, refused twice over: an unsafe request (anything but GET, HEAD, OPTIONS) must carry the
session's CSRF token in X-CSRF-Token (compared in constant time) and an Origin header naming the console's own origin
(a request without one is refused). The SameSite=Strict cookie already keeps other sites' requests from carrying the
session; this holds when a browser or a proxy does not. Sign-up, verification and sign-in have no session yet and
are exempt: they change nobody's session."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from urllib.parse import urlsplit

from retouch.models.console import ConsoleSessionRecord

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"


def csrf_refusal(method: str, headers: Mapping[str, str], session: ConsoleSessionRecord | None,
                 own_origin: str) -> str | None:
    """Why this request is refused (None: it may go on). `headers` lower-cased; `own_origin` `scheme://host[:port]`."""
    if method.upper() in SAFE_METHODS:
        return None
    origin = headers.get("origin")
    if not origin or not same_origin(origin, own_origin):
        return "The request's Origin is not the console's."
    if session is None:
        return None  # no session to forge a request with; the route's own check answers (401, or a public route)
    token = headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(token.encode(), session.csrf_token.encode()):
        return "The X-CSRF-Token header does not match the session's (GET /console/api/session gives it)."
    return None


def same_origin(origin: str, own_origin: str) -> bool:
    return _origin_parts(origin) == _origin_parts(own_origin)


def _origin_parts(origin: str) -> tuple[str, str] | None:
    try:
        parts = urlsplit(origin.strip())
        netloc = parts.netloc.lower()
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not netloc or parts.path not in ("", "/"):
        return None
    return parts.scheme, netloc
