"""Seed the local stack with one account and API key (`retouch.admin.bootstrap.ensure_local_account`).

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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--table", required=True)
    parser.add_argument("--layer-dir", action="append", default=[])
    args = parser.parse_args(argv)
    sys.path[:0] = args.layer_dir  # the same retouch package the functions import

    from retouch.admin.bootstrap import ensure_local_account

    account_id, api_key = ensure_local_account(args.table, os.environ.get(API_KEY_VARIABLE) or None)
    announce_ready({"account_id": account_id, "api_key": api_key})


if __name__ == "__main__":
    main()
