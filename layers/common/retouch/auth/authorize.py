"""Resolve a bearer key to the account it belongs to (the authorizer's whole job)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from retouch.auth.client_tokens import find_client_token, is_client_token
from retouch.auth.keys import bearer_token, hash_api_key
from retouch.models.common import now_epoch
from retouch.ports import AccountRepository, ClientTokenStore


@dataclass(frozen=True)
class Principal:
    account_id: str
    key_id: str
    # A device token's (auth/client_tokens.py): its end user, scopes and when it stops working; None for account keys.
    end_user: str | None = None
    scopes: tuple[str, ...] | None = None
    valid_until: int | None = None
    # An account key's MCP per-call ceiling (ApiKeyRecord); None: the deployment's ceiling only.
    max_cost_per_call_micros: int | None = None
    # A console session's (the console function's cookie session, issue #21): the signed-in person and their role
    # ("member" or "operator"); None for API keys and device tokens.
    console_user: str | None = None
    console_role: str | None = None


def authenticate(authorization: str | None, accounts: AccountRepository,
                 tokens: ClientTokenStore | None = None) -> Principal | None:
    token = bearer_token(authorization)
    if token is None:
        return None
    if is_client_token(token):
        return _device_principal(token, accounts, tokens)
    key = accounts.find_key(hash_api_key(token))
    if key is None or key.revoked_at is not None:
        return None
    account = accounts.get_account(key.account_id)
    if account is None or account.status != "active":
        return None
    return Principal(account_id=key.account_id, key_id=key.key_id,
                     max_cost_per_call_micros=key.max_cost_per_call_micros)


def _device_principal(token: str, accounts: AccountRepository, tokens: ClientTokenStore | None) -> Principal | None:
    record = find_client_token(token, tokens, now_epoch()) if tokens is not None else None
    if record is None:
        return None
    account = accounts.get_account(record.account_id)
    if account is None or account.status != "active":
        return None
    return Principal(account_id=record.account_id, key_id=record.token_id, end_user=record.end_user,
                     scopes=tuple(record.scopes), valid_until=record.valid_until)


def authorizer_response(principal: Principal | None) -> dict[str, Any]:
    """HTTP API simple response. Unknown keys pass with no account so the API answers an OpenAI-shaped 401
    (API Gateway's own deny is a bare 403 that OpenAI clients misreport). A device token's context adds its end user,
    scopes (space-separated) and expiry (the context holds only strings, numbers and booleans)."""
    if principal is None:
        return {"isAuthorized": True, "context": {"account_id": ""}}
    context: dict[str, Any] = {"account_id": principal.account_id, "key_id": principal.key_id}
    if principal.max_cost_per_call_micros is not None:  # shown to the key on GET /v1/account (retouch-mcp reads it)
        context["max_cost_per_call_micros"] = principal.max_cost_per_call_micros
    if principal.scopes is not None:
        context.update(end_user=principal.end_user, scopes=" ".join(principal.scopes),
                       valid_until=principal.valid_until)
    if principal.console_user is not None:
        context.update(console_user=principal.console_user, console_role=principal.console_role or "member")
    return {"isAuthorized": True, "context": context}
