"""Account and key management used by the admin CLI and the local stack's seeding."""

from __future__ import annotations

from dataclasses import dataclass

from retouch.auth.keys import generate_api_key, hash_api_key, visible_prefix
from retouch.data.accounts import AccountRepository
from retouch.models.common import now_epoch, random_id
from retouch.models.records import AccountRecord, ApiKeyRecord


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    raw_key: str
    prefix: str


def create_account(accounts: AccountRepository, name: str, account_id: str | None = None) -> AccountRecord:
    account = AccountRecord(account_id=account_id or random_id("acct_", 20), name=name, created_at=now_epoch())
    accounts.put_account(account)
    return account


def issue_key(accounts: AccountRepository, account_id: str, raw_key: str | None = None) -> IssuedKey:
    raw = raw_key or generate_api_key()
    record = ApiKeyRecord(
        key_hash=hash_api_key(raw),
        key_id=random_id("key_", 16),
        account_id=account_id,
        prefix=visible_prefix(raw),
        created_at=now_epoch(),
    )
    accounts.put_key(record)
    return IssuedKey(key_id=record.key_id, raw_key=raw, prefix=record.prefix)
