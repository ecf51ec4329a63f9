"""Seed the local stack with one account ($100 of credit) and key (a fixed key when RETOUCH_LOCAL_API_KEY is given)."""

from __future__ import annotations

from retouch.admin.accounts import create_account, issue_key
from retouch.auth.keys import hash_api_key
from retouch.billing.charges import add_credit
from retouch.billing.money import MICROS_PER_USD
from retouch.wiring import admin

LOCAL_ACCOUNT_ID = "acct_local0000000000000"
LOCAL_STARTING_CREDIT_MICROS = 100 * MICROS_PER_USD  # $100: enough for `make run` out of the box


def ensure_local_account(table_name: str, api_key: str | None) -> tuple[str, str]:
    accounts = admin.accounts(table_name)
    if accounts.get_account(LOCAL_ACCOUNT_ID) is None:
        create_account(accounts, "local", account_id=LOCAL_ACCOUNT_ID)
        add_credit(admin.ledger(table_name), LOCAL_ACCOUNT_ID, LOCAL_STARTING_CREDIT_MICROS,
                   note="local stack starting credit")
    if api_key:
        existing = accounts.find_key(hash_api_key(api_key))
        if existing is not None:
            return existing.account_id, api_key
    issued = issue_key(accounts, LOCAL_ACCOUNT_ID, raw_key=api_key)
    return LOCAL_ACCOUNT_ID, issued.raw_key
