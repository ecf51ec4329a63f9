"""Seed the local stack with one account ($100 of credit), one API key, and the console's operator (a verified person
in the operators group who owns that account, when the template has a console user pool): what `make run` starts with.

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
import secrets
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from local.child_process import ChildProcess, announce_ready
from local.console import Console

API_KEY_VARIABLE = "RETOUCH_LOCAL_API_KEY"
OPERATOR_PASSWORD_VARIABLE = "RETOUCH_LOCAL_OPERATOR_PASSWORD"  # noqa: S105 (the variable's name)
OPERATOR_EMAIL = "operator@retouch.example"


@dataclass(frozen=True)
class ConsoleOperator:
    """The seeded console operator's sign-in, and the user pool (and its client) it is made in."""

    email: str
    password: str
    user_pool_id: str
    client_id: str

    @classmethod
    def new(cls, user_pool_id: str, client_id: str, password: str | None = None) -> ConsoleOperator:
        """A fresh password each run (moto starts empty) unless one is given; it meets the pool's policy."""
        return cls(OPERATOR_EMAIL, password or f"Op-{secrets.token_urlsafe(12)}-9a", user_pool_id, client_id)
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
    operator: ConsoleOperator | None = None,
) -> tuple[str, str]:
    """Returns (account_id, api_key); makes `operator` too, when given."""
    child_env = dict(env)
    if api_key:
        child_env[API_KEY_VARIABLE] = api_key
    argv = [sys.executable, "-m", "local.seed", "--table", table_name]
    if operator is not None:
        child_env[OPERATOR_PASSWORD_VARIABLE] = operator.password
        argv += ["--operator-email", operator.email, "--user-pool-id", operator.user_pool_id,
                 "--user-pool-client-id", operator.client_id]
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


def ensure_local_operator(table_name: str, email: str, password: str, user_pool_id: str, client_id: str) -> None:
    """The console's operator, owner of the local account. In the child: imports the layer."""
    from retouch.admin.console import seed_operator
    from retouch.wiring import admin

    identity, people = admin.console_people(table_name, user_pool_id, client_id)
    seed_operator(admin.console_operators(user_pool_id), identity, people, email, password, LOCAL_ACCOUNT_ID)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--table", required=True)
    parser.add_argument("--layer-dir", action="append", default=[])
    parser.add_argument("--operator-email")
    parser.add_argument("--user-pool-id")
    parser.add_argument("--user-pool-client-id")
    args = parser.parse_args(argv)
    sys.path[:0] = args.layer_dir  # the same retouch package the functions import
    account_id, api_key = ensure_local_account(args.table, os.environ.get(API_KEY_VARIABLE) or None)
    if args.operator_email:
        ensure_local_operator(args.table, args.operator_email, os.environ[OPERATOR_PASSWORD_VARIABLE],
                              args.user_pool_id, args.user_pool_client_id)
    announce_ready({"account_id": account_id, "api_key": api_key})


if __name__ == "__main__":
    main()
