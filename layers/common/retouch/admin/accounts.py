"""Account and key management used by the admin CLI and the local stack's seeding (keys are issued in
auth/key_issuing.py, shared with the console)."""

from __future__ import annotations

from retouch.auth.key_issuing import IssuedKey, issue_key, revoke_key, set_key_cost_ceiling
from retouch.billing.rate_limit import DEFAULT_MAX_IN_FLIGHT, DEFAULT_REQUESTS_PER_MINUTE
from retouch.models.account_records import AccountRecord
from retouch.models.common import now_epoch, random_id
from retouch.ports import AccountRepository

__all__ = ["IssuedKey", "create_account", "issue_key", "revoke_key", "set_key_cost_ceiling"]


def create_account(accounts: AccountRepository, name: str, account_id: str | None = None, *,
                   max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
                   requests_per_minute: int = DEFAULT_REQUESTS_PER_MINUTE) -> AccountRecord:
    """A new active account with a zero balance (credit is added through the ledger: `add_credit`)."""
    account = AccountRecord(account_id=account_id or random_id("acct_", 20), name=name, created_at=now_epoch(),
                            max_in_flight=max_in_flight, requests_per_minute=requests_per_minute)
    accounts.put_account(account)
    return account
