"""API keys: shown once, stored only as a SHA-256 hash with a short visible prefix."""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "rt_live_"
VISIBLE_PREFIX_LENGTH = 12


def generate_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def visible_prefix(raw_key: str) -> str:
    return raw_key[:VISIBLE_PREFIX_LENGTH]


def bearer_token(authorization: str | None) -> str | None:
    """The key in `Authorization: Bearer <key>`, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None
