"""Seed the local stack with one account ($100 of credit) and one API key: what `make run` starts with.

Local-only, so it lives here and not in the deployed `retouch` package; it uses the admin operations the
`retouch-admin` CLI uses (create an account, add credit, issue a key). Idempotent: the account is created and
credited once; a fixed key (RETOUCH_LOCAL_API_KEY) already issued is reused, otherwise a key is issued.

Runs as a short-lived child (`python -m local.seed --table NAME`) with the functions' AWS environment,
so the stack never rewrites its own (or a test process's) os.environ, and the layer's cached boto3
clients never point at another stack's emulation. A fixed key comes in RETOUCH_LOCAL_API_KEY.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from local.child_process import ChildProcess, announce_ready
from local.console import Console

API_KEY_VARIABLE = "RETOUCH_LOCAL_API_KEY"
LOCAL_ACCOUNT_ID = "acct_local0000000000000"
LOCAL_STARTING_CREDIT_USD = 100  # enough for `make run` out of the box


def seed_account(
    table_name: str,
    api_key: str | None,
    *,
    env: Mapping[str, str],
    layer_dirs: Sequence[Path],
    console: Console,
    timeout: float,
) -> tuple[str, str]:
    """Returns (account_id, api_key)."""
    child_env = dict(env)
    if api_key:
        child_env[API_KEY_VARIABLE] = api_key
    argv = [sys.executable, "-m", "local.seed", "--table", table_name]
    for layer_dir in layer_dirs:
        argv += ["--layer-dir", str(layer_dir)]
    child = ChildProcess("seed", argv, env=child_env, console=console)
    child.start()
    try:
        info = child.wait_ready(timeout)
    finally:
        child.stop()
    return info["account_id"], info["api_key"]


def ensure_local_account(table_name: str, api_key: str | None) -> tuple[str, str]:
    """(account_id, api_key) of the local account, created on first use. In the child: imports the layer."""
    from retouch.admin.accounts import create_account, issue_key
    from retouch.auth.keys import hash_api_key
    from retouch.billing.charges import add_credit
    from retouch.billing.money import MICROS_PER_USD
    from retouch.wiring import admin

    accounts = admin.accounts(table_name)
    if accounts.get_account(LOCAL_ACCOUNT_ID) is None:
        create_account(accounts, "local", account_id=LOCAL_ACCOUNT_ID)
        add_credit(admin.ledger(table_name), LOCAL_ACCOUNT_ID, LOCAL_STARTING_CREDIT_USD * MICROS_PER_USD,
                   note="local stack starting credit")
    if api_key:
        existing = accounts.find_key(hash_api_key(api_key))
        if existing is not None:
            return existing.account_id, api_key
    issued = issue_key(accounts, LOCAL_ACCOUNT_ID, raw_key=api_key)
    return LOCAL_ACCOUNT_ID, issued.raw_key


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--table", required=True)
    parser.add_argument("--layer-dir", action="append", default=[])
    args = parser.parse_args(argv)
    sys.path[:0] = args.layer_dir  # the same retouch package the functions import
    account_id, api_key = ensure_local_account(args.table, os.environ.get(API_KEY_VARIABLE) or None)
    announce_ready({"account_id": account_id, "api_key": api_key})


if __name__ == "__main__":
    main()
