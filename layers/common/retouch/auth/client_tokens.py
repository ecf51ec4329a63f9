"""Device tokens: minted by an account's own key for one end user, used by that user's device as its API key.

`rt_dev_<24-character id><43-character secret>`: the id finds the item in one read, the secret is compared by its
SHA-256 (the token itself is never stored). The authorizer (and the sync entry) resolve it into a principal bound to
the end user and scopes; web/principal.py limits such a caller to its scopes' routes, and the job routes to its own
jobs; the spend cap is held per job (billing/end_user_quotas.py). Revoked or past its expiry: refused at once on
submits (the hold's condition), within the authorizer's 30 s cache elsewhere, and never past `valid_until` (the
principal carries it and every request checks it).
"""

from __future__ import annotations

import hmac

from retouch.auth.keys import hash_api_key
from retouch.models.client_tokens import ClientTokenRecord
from retouch.ports import ClientTokenStore

TOKEN_PREFIX = "rt_dev_"  # noqa: S105 - a prefix that tells device tokens from keys, not a secret
ID_CHARS = 24


def is_client_token(token: str) -> bool:
    return token.startswith(TOKEN_PREFIX)


def token_id_of(body: str) -> str:
    return f"ctok_{body}"


def find_client_token(token: str, tokens: ClientTokenStore, now: int) -> ClientTokenRecord | None:
    """The token's record when the token is genuine, unrevoked and unexpired; else None."""
    body = token[len(TOKEN_PREFIX):]
    if len(body) <= ID_CHARS or not body[:ID_CHARS].isalnum():
        return None
    record = tokens.get(token_id_of(body[:ID_CHARS]))
    if record is None or not hmac.compare_digest(record.secret_hash, hash_api_key(body[ID_CHARS:])):
        return None
    if record.revoked_at is not None or record.valid_until <= now:
        return None
    return record
