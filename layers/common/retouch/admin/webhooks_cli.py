"""`webhooks` commands of the admin tool: an account's default webhook URL and its signing secrets.

    retouch-admin webhooks show ACCOUNT
    retouch-admin webhooks set-url ACCOUNT https://example.com/hooks   (creates a secret if none; shows it once)
    retouch-admin webhooks set-url ACCOUNT http://127.0.0.1:9000/hooks --allow-host 127.0.0.1:9000   (http to a
        host given here only; this tool does not read RETOUCH_URL_ALLOWLIST, the functions' own setting)
    retouch-admin webhooks clear-url ACCOUNT
    retouch-admin webhooks rotate-secret ACCOUNT [--window-hours 24]   (shows the new secret once)
    retouch-admin webhooks retire-old-secrets ACCOUNT

`retouch.admin.cli` registers them with `add_webhook_commands(commands)`; each sets `handler` in its
convention, `handler(context_with_table, args)`. `python -m retouch.admin.webhooks_cli` runs them alone
(the table from `--table` or RETOUCH_TABLE_NAME).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from retouch.ports import WebhookSettingsRepository
from retouch.webhooks.account import (
    DEFAULT_ROTATION_WINDOW_SECONDS,
    ensure_secret,
    retire_old_secrets,
    rotate_secret,
    set_default_url,
    summary,
)
from retouch.wiring.admin import webhook_settings

Handler = Callable[[argparse.Namespace, WebhookSettingsRepository, TextIO], int]


def _when(epoch: int | None) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds") if epoch else "-"


def _show_secret(secret: str, out: TextIO) -> None:
    out.write(f"signing secret: {secret}\n(shown once: give it to the receiver now; it cannot be shown again)\n")


def _show(args: argparse.Namespace, repo: WebhookSettingsRepository, out: TextIO) -> int:
    info = summary(repo, args.account_id)
    out.write(f"account: {info.account_id}\ndefault webhook URL: {info.default_url or '-'}\n")
    out.write(f"signing secrets: {len(info.secrets)}\n")
    for created, expires in info.secrets:
        out.write(f"  created {_when(created)}  expires {_when(expires)}\n")
    return 0


def _set_url(args: argparse.Namespace, repo: WebhookSettingsRepository, out: TextIO) -> int:
    set_default_url(repo, args.account_id, args.url, allowlist=frozenset(args.allow_host or ()))
    out.write(f"default webhook URL of {args.account_id}: {args.url}\n")
    secret = ensure_secret(repo, args.account_id)
    if secret:
        _show_secret(secret, out)
    return 0


def _clear_url(args: argparse.Namespace, repo: WebhookSettingsRepository, out: TextIO) -> int:
    set_default_url(repo, args.account_id, None)
    out.write(f"default webhook URL of {args.account_id} cleared\n")
    return 0


def _rotate(args: argparse.Namespace, repo: WebhookSettingsRepository, out: TextIO) -> int:
    window = int(args.window_hours * 3600)
    _show_secret(rotate_secret(repo, args.account_id, window_seconds=window), out)
    out.write(f"older secrets keep signing until {_when(int(datetime.now(UTC).timestamp()) + window)}\n")
    return 0


def _retire(args: argparse.Namespace, repo: WebhookSettingsRepository, out: TextIO) -> int:
    retire_old_secrets(repo, args.account_id)
    out.write(f"only the newest secret of {args.account_id} signs from now on\n")
    return 0


def add_webhook_commands(
        subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Adds `webhooks <command>` to the admin tool's subparsers."""
    parser = subparsers.add_parser("webhooks", help="default webhook URL and signing secrets of an account")
    commands = parser.add_subparsers(dest="webhooks_command", required=True)

    def command(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("account_id")
        sub.set_defaults(webhooks_handler=run, _webhooks_run=handler, handler=_from_admin_cli)
        return sub

    command("show", _show, "the default URL and when the secrets were made (never the secrets)")
    set_url = command("set-url", _set_url, "set the default webhook URL (creates a signing secret if none)")
    set_url.add_argument("url")
    set_url.add_argument("--allow-host", action="append", help="host[:port] allowed over http (local testing)")
    command("clear-url", _clear_url, "remove the default webhook URL")
    rotate = command("rotate-secret", _rotate, "create a new signing secret; the old one signs too for a window")
    rotate.add_argument("--window-hours", type=float, default=DEFAULT_ROTATION_WINDOW_SECONDS / 3600,
                        help="how long the previous secret keeps signing (default 24)")
    command("retire-old-secrets", _retire, "end a rotation window now: only the newest secret signs")
    return parser


def run(args: argparse.Namespace, table_name: str, out: TextIO = sys.stdout,
        repo: WebhookSettingsRepository | None = None) -> int:
    try:
        handler: Handler = args._webhooks_run
        return handler(args, repo or webhook_settings(table_name), out)
    except ValueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2


def _from_admin_cli(ctx: Any, args: argparse.Namespace) -> int:
    """`retouch.admin.cli`'s calling convention: handler(context with `.table`, args)."""
    return run(args, ctx.table)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="retouch-admin")
    parser.add_argument("--table", help="the stack's table (default: RETOUCH_TABLE_NAME)")
    add_webhook_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    table = args.table
    if not table:
        from retouch.config import AdminSettings

        table = AdminSettings.from_environment().table_name
    handler: Callable[[argparse.Namespace, str], int] = args.webhooks_handler
    return handler(args, table)


if __name__ == "__main__":
    raise SystemExit(main())
