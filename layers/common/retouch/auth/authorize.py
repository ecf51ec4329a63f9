"""Resolve a bearer key to the account it belongs to (the authorizer's whole job)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from retouch.auth.keys import bearer_token, hash_api_key
from retouch.ports import AccountRepository


@dataclass(frozen=True)
class Principal:
    account_id: str
    key_id: str


def authenticate(authorization: str | None, accounts: AccountRepository) -> Principal | None:
    token = bearer_token(authorization)
    if token is None:
        return None
    key = accounts.find_key(hash_api_key(token))
    if key is None or key.revoked_at is not None:
        return None
    account = accounts.get_account(key.account_id)
    if account is None or account.status != "active":
        return None
    return Principal(account_id=key.account_id, key_id=key.key_id)


def authorizer_response(principal: Principal | None) -> dict[str, Any]:
    """HTTP API simple response. Unknown keys pass with no account so the API answers an OpenAI-shaped 401
    (API Gateway's own deny is a bare 403 that OpenAI clients misreport)."""
    if principal is None:
        return {"isAuthorized": True, "context": {"account_id": ""}}
    return {"isAuthorized": True, "context": {"account_id": principal.account_id, "key_id": principal.key_id}}
