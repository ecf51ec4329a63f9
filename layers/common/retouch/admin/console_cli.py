"""`console` commands of the admin tool: the console's user pool (the stack's ConsoleUserPoolId output).

    retouch-admin console add-operator EMAIL [--user-pool-id ID]   (or RETOUCH_USER_POOL_ID)

The person must have signed up (and verified) first; they have the operator role from their next sign-in.
`retouch.admin.cli` registers them with `add_console_commands(commands)`.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from retouch.admin.console import add_operator


def add_console_commands(commands: Any) -> None:
    console = commands.add_parser("console", help="the console's people: operators",
                                  description="the console's people: operators")
    sub = console.add_subparsers(dest="console_command", required=True)
    operator = sub.add_parser("add-operator", help="give a signed-up person the operator role (next sign-in)")
    operator.add_argument("email")
    operator.add_argument("--user-pool-id", default=os.environ.get("RETOUCH_USER_POOL_ID"),
                          help="the stack's ConsoleUserPoolId output (or RETOUCH_USER_POOL_ID)")
    operator.set_defaults(handler=_add_operator)


def _add_operator(ctx: Any, args: argparse.Namespace) -> int:
    from retouch.wiring.admin import console_operators

    if not args.user_pool_id:
        raise SystemExit("error: give --user-pool-id or set RETOUCH_USER_POOL_ID (the ConsoleUserPoolId output)")
    try:
        add_operator(console_operators(args.user_pool_id), args.email)
    except LookupError as exc:
        raise SystemExit(f"error: {exc}") from None
    ctx.emit({"email": args.email, "role": "operator"}, f"{args.email} is an operator from their next sign-in")
    return 0
