"""An account's API keys as its people manage them in the console: listed, created (the secret shown once), revoked.

The same records and functions as the admin tool's (auth/key_issuing.py): a key made here is a key like any other, found
by the authorizer through its hash. The console never stores a key in the browser and never shows a secret twice.
"""

from __future__ import annotations

from retouch.auth.key_issuing import issue_key, revoke_key
from retouch.errors import KeyLimitReached, KeyNotFound
from retouch.models.account_records import ApiKeyRecord
from retouch.models.console_routes import CreatedKey, KeyList, KeyView
from retouch.ports import AccountRepository

# Active keys one account may hold: enough for every service and environment, few enough that a script creating keys
# in a loop stops here (each key is an item the authorizer may read).
MAX_ACTIVE_KEYS = 50


def key_view(key: ApiKeyRecord) -> KeyView:
    return KeyView(id=key.key_id, name=key.name, prefix=key.prefix, created_at=key.created_at,
                   revoked_at=key.revoked_at)


def list_account_keys(accounts: AccountRepository, account_id: str) -> KeyList:
    keys = sorted(accounts.list_keys(account_id), key=lambda key: (key.created_at, key.key_id), reverse=True)
    return KeyList(data=[key_view(key) for key in keys])


def create_account_key(accounts: AccountRepository, account_id: str, name: str) -> CreatedKey:
    """A new key named `name`; its secret is in this answer only. 409 at MAX_ACTIVE_KEYS active keys."""
    active = sum(1 for key in accounts.list_keys(account_id) if key.revoked_at is None)
    if active >= MAX_ACTIVE_KEYS:
        raise KeyLimitReached(f"This account has {active} active API keys, the most it may hold; revoke one first.")
    issued = issue_key(accounts, account_id, name=name)
    return CreatedKey(id=issued.key_id, name=name, prefix=issued.prefix, created_at=issued.created_at,
                      key=issued.raw_key)


def revoke_account_key(accounts: AccountRepository, account_id: str, key_id: str) -> KeyView:
    """The key, revoked (again: unchanged); 404 for a key that is not the account's. Refused on every route within the
    authorizer's 30 s cache, at once on the routes that change something (auth/standing.py)."""
    try:
        return key_view(revoke_key(accounts, account_id, key_id))
    except LookupError:
        raise KeyNotFound(f"No API key found with id '{key_id}'.", param="key_id") from None
