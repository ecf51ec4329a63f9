"""The synchronous entry's edge check: with SyncEdge CloudFrontWaf, CloudFront (behind its WAF) adds a secret header
to every request it forwards, and the sync function serves no request without it, so a flood sent straight to the
Function URL is refused before any key lookup (one cheap invocation, bounded by SyncReservedConcurrency) and the
edge's per-address limits cannot be gone around. Without the edge (no secret), every request is served."""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from typing import Any

EDGE_HEADER = "x-retouch-edge"
# A Function URL's own refusal shape, as API Gateway's: {"message": ...}.
NOT_FROM_EDGE: dict[str, Any] = {"statusCode": 403, "headers": {"Content-Type": "application/json"},
                                 "body": json.dumps({"message": "Forbidden"})}


def from_edge(headers: Mapping[str, str] | None, secret: str | None) -> bool:
    """Whether the request came through the edge (always, when there is none)."""
    if secret is None:
        return True
    sent = (headers or {}).get(EDGE_HEADER, "")
    return hmac.compare_digest(sent.encode(), secret.encode())
