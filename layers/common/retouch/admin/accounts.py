"""Account and key management used by the admin CLI and the local stack's seeding."""

from __future__ import annotations

from dataclasses import dataclass

from retouch.auth.keys import generate_api_key, hash_api_key, visible_prefix
from retouch.billing.rate_limit import DEFAULT_MAX_IN_FLIGHT, DEFAULT_REQUESTS_PER_MINUTE
from retouch.models.account_records import AccountRecord, ApiKeyRecord
from retouch.models.common import now_epoch, random_id
from retouch.ports import AccountRepository


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    raw_key: str
    prefix: str
    created_at: int


def create_account(accounts: AccountRepository, name: str, account_id: str | None = None, *,
                   max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
                   requests_per_minute: int = DEFAULT_REQUESTS_PER_MINUTE) -> AccountRecord:
    """A new active account with a zero balance (credit is added through the ledger: `add_credit`)."""
    account = AccountRecord(account_id=account_id or random_id("acct_", 20), name=name, created_at=now_epoch(),
                            max_in_flight=max_in_flight, requests_per_minute=requests_per_minute)
    accounts.put_account(account)
    return account


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
