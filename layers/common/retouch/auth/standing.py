"""Refuse a revoked key or a suspended account at once, on routes that change something.

The authorizer's answer is cached for 30 s, so a key revoked (or an account suspended) a moment ago still reaches the
routes. The submit path catches it on the account item it reads to count the request (billing.rate_limit.admit);
the other changing routes (cancel, delete, webhook redelivery) read the account item once, here, for the same check.
"""

from __future__ import annotations

from typing import Protocol

from retouch.errors import Unauthenticated
from retouch.models.account_records import AccountRecord


class AccountReader(Protocol):
    def get_account(self, account_id: str) -> AccountRecord | None: ...


def require_standing(accounts: AccountReader, account_id: str, key_id: str | None) -> AccountRecord:
    """The caller's account, when it exists, is active and does not list `key_id` as revoked; else Unauthenticated
    (401)."""
    account = accounts.get_account(account_id)
    if account is None:
        raise Unauthenticated("This account does not exist.")
    return in_standing(account, key_id)


def in_standing(account: AccountRecord, key_id: str | None) -> AccountRecord:
    """`account`, read by the caller's own request, when it is active and does not list `key_id` as revoked."""
    if account.status != "active":
        raise Unauthenticated("This account is suspended.")
    if key_id is not None and key_id in account.revoked_key_ids:
        raise Unauthenticated("This API key has been revoked.")
    return account
