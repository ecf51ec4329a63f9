"""In-memory AccountRepository (accounts and API-key hashes; see retouch.ports)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from retouch.models.account_records import AccountRecord, ApiKeyRecord

if TYPE_CHECKING:
    from retouch import ports


class FakeAccountRepository:
    def __init__(self) -> None:
        self.accounts: dict[str, AccountRecord] = {}
        self.keys: dict[str, ApiKeyRecord] = {}

    def put_account(self, account: AccountRecord) -> None:
        self.accounts[account.account_id] = account

    def get_account(self, account_id: str) -> AccountRecord | None:
        return self.accounts.get(account_id)

    def put_key(self, key: ApiKeyRecord) -> None:
        if key.key_hash in self.keys:
            raise AssertionError("key stored twice")
        self.keys[key.key_hash] = key

    def find_key(self, key_hash: str) -> ApiKeyRecord | None:
        return self.keys.get(key_hash)

    def list_keys(self, account_id: str) -> list[ApiKeyRecord]:
        return [k for k in self.keys.values() if k.account_id == account_id]

    def revoke_key(self, key: ApiKeyRecord, revoked_at: int) -> None:
        self.keys[key.key_hash] = self.keys[key.key_hash].model_copy(update={"revoked_at": revoked_at})
        account = self.accounts[key.account_id]
        self.accounts[key.account_id] = account.model_copy(
            update={"revoked_key_ids": [*account.revoked_key_ids, key.key_id]})

    def set_key_cost_ceiling(self, key: ApiKeyRecord, max_cost_per_call_micros: int | None) -> ApiKeyRecord:
        updated = self.keys[key.key_hash].model_copy(update={"max_cost_per_call_micros": max_cost_per_call_micros})
        self.keys[key.key_hash] = updated
        return updated


if TYPE_CHECKING:  # mypy checks each fake against its port
    _accounts: ports.AccountRepository = FakeAccountRepository()
