"""Issuing and revoking an account's API keys: the one place a key record is made or revoked, for the admin tool, the
local stack's seeding and the console (console/keys.py). The raw key is returned once and never stored."""

from __future__ import annotations

from dataclasses import dataclass

from retouch.auth.keys import generate_api_key, hash_api_key, visible_prefix
from retouch.models.account_records import ApiKeyRecord
from retouch.models.common import now_epoch, random_id
from retouch.ports import AccountRepository


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    raw_key: str
    prefix: str
    created_at: int


def issue_key(accounts: AccountRepository, account_id: str, raw_key: str | None = None, *,
              max_cost_per_call_micros: int | None = None, name: str | None = None) -> IssuedKey:
    """A new key for the account; `max_cost_per_call_micros` is its MCP per-call ceiling (None: the deployment's);
    `name` what it is for (the console asks for one)."""
    raw = raw_key or generate_api_key()
    record = ApiKeyRecord(
        key_hash=hash_api_key(raw),
        key_id=random_id("key_", 16),
        account_id=account_id,
        prefix=visible_prefix(raw),
        created_at=now_epoch(),
        max_cost_per_call_micros=max_cost_per_call_micros,
        name=name,
    )
    accounts.put_key(record)
    return IssuedKey(key_id=record.key_id, raw_key=raw, prefix=record.prefix, created_at=record.created_at)


def _account_key(accounts: AccountRepository, account_id: str, key_id: str) -> ApiKeyRecord:
    for key in accounts.list_keys(account_id):
        if key.key_id == key_id:
            return key
    raise LookupError(f"account {account_id} has no key {key_id}")


def revoke_key(accounts: AccountRepository, account_id: str, key_id: str) -> ApiKeyRecord:
    """Revoke one of the account's keys by its id (the raw key is never stored, so never needed); the key as revoked
    (revoking a revoked key again changes nothing). LookupError when the account has no such key."""
    key = _account_key(accounts, account_id, key_id)
    if key.revoked_at is None:
        revoked_at = now_epoch()
        accounts.revoke_key(key, revoked_at)
        key = key.model_copy(update={"revoked_at": revoked_at})
    return key


def set_key_cost_ceiling(accounts: AccountRepository, account_id: str, key_id: str,
                         max_cost_per_call_micros: int | None) -> ApiKeyRecord:
    """Sets (None: removes) the most one MCP call made with this key may hold; only the operator can."""
    return accounts.set_key_cost_ceiling(_account_key(accounts, account_id, key_id), max_cost_per_call_micros)
