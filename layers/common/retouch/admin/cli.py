"""retouch-admin: accounts, credit, keys, limits, the ledger and reconciliation, against any Retouch table.

    retouch-admin --table <TableName output> <command> ...     (or RETOUCH_TABLE_NAME)
    AWS credentials and region as for the AWS CLI; for the local stack, the AWS_ENDPOINT_URL `make run` prints
    (or --endpoint-url). Run `retouch-admin -h` or `retouch-admin <command> -h` for each command.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeAlias

from retouch.admin.console_cli import add_console_commands
from retouch.admin.webhooks_cli import add_webhook_commands
from retouch.billing.money import format_usd, parse_usd


def _when(epoch_seconds: int | None) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).isoformat(timespec="seconds") if epoch_seconds else "-"


def _usd(text: str) -> int:
    try:
        return parse_usd(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


@dataclass
class _Context:
    table: str
    as_json: bool

    def repos(self) -> tuple[Any, Any, Any]:
        from retouch.wiring import admin

        return admin.accounts(self.table), admin.ledger(self.table), admin.account_jobs(self.table)

    def emit(self, data: dict[str, Any] | list[Any], text: str) -> None:
        print(json.dumps(data, indent=2) if self.as_json else text)


def _account_text(account: Any) -> str:
    return (f"account   {account.account_id}  ({account.name})\n"
            f"status    {account.status}\n"
            f"balance   {format_usd(account.balance_micros)}  (available; jobs in flight hold their price)\n"
            f"in flight {account.in_flight} / {account.max_in_flight}\n"
            f"rate      {account.requests_per_minute} requests per minute")


def _require_account(ledger: Any, account_id: str) -> Any:
    account = ledger.get_account(account_id)
    if account is None:
        raise SystemExit(f"error: no account {account_id}")
    return account


def cmd_create_account(ctx: _Context, args: argparse.Namespace) -> int:
    from retouch.admin.accounts import create_account
    from retouch.billing.charges import add_credit

    accounts, ledger, _ = ctx.repos()
    if args.id and accounts.get_account(args.id) is not None:
        raise SystemExit(f"error: account {args.id} already exists")
    account = create_account(accounts, args.name, args.id, max_in_flight=args.max_in_flight,
                             requests_per_minute=args.rpm)
    if args.credit:
        add_credit(ledger, account.account_id, args.credit, note=args.note or "initial credit")
    account = ledger.get_account(account.account_id)
    ctx.emit(account.model_dump(), _account_text(account))
    return 0


def cmd_index_accounts(ctx: _Context, args: argparse.Namespace) -> int:
    """Enters every account in the account directory (the console's operator pages list it): once, for accounts made
    before it existed; new accounts are entered when they are made. Idempotent."""
    from retouch.wiring import admin

    _, ledger, _ = ctx.repos()
    directory = admin.account_directory(ctx.table)
    entered = 0
    for account_id in ledger.account_ids():
        account = ledger.get_account(account_id)
        if account is not None:
            directory.enter(account)
            entered += 1
    ctx.emit({"accounts_entered": entered}, f"{entered} accounts in the account directory")
    return 0


def cmd_show_account(ctx: _Context, args: argparse.Namespace) -> int:
    _, ledger, _ = ctx.repos()
    account = _require_account(ledger, args.account)
    ctx.emit(account.model_dump(), _account_text(account))
    return 0


def cmd_add_credit(ctx: _Context, args: argparse.Namespace) -> int:
    from retouch.billing.charges import add_credit

    _, ledger, _ = ctx.repos()
    _require_account(ledger, args.account)
    try:
        entry = add_credit(ledger, args.account, args.amount, note=args.note)
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None
    balance = _require_account(ledger, args.account).balance_micros
    ctx.emit(entry.model_dump(), f"{format_usd(entry.amount_micros)} added to {args.account} ({args.note}); "
                                 f"balance {format_usd(balance)}")
    return 0


def cmd_create_key(ctx: _Context, args: argparse.Namespace) -> int:
    from retouch.admin.accounts import issue_key

    accounts, ledger, _ = ctx.repos()
    _require_account(ledger, args.account)
    issued = issue_key(accounts, args.account, max_cost_per_call_micros=args.max_cost_per_call)
    ctx.emit({"key_id": issued.key_id, "api_key": issued.raw_key, "prefix": issued.prefix,
              "max_cost_per_call_micros": args.max_cost_per_call},
             f"key_id  {issued.key_id}\napi_key {issued.raw_key}\n"
             f"MCP per-call ceiling {_ceiling_text(args.max_cost_per_call)}\n"
             "This key is shown once: only its hash is stored. Give it to the customer now.")
    return 0


def _ceiling_text(micros: int | None) -> str:
    return format_usd(micros) if micros is not None else "none (the deployment's)"


def _ceiling(text: str) -> int:
    micros = _usd(text)
    if micros < 0:
        raise argparse.ArgumentTypeError("a ceiling cannot be negative")
    return micros


def _ceiling_or_none(text: str) -> int | None:
    return None if text.strip().lower() == "none" else _ceiling(text)


def cmd_set_key_limit(ctx: _Context, args: argparse.Namespace) -> int:
    from retouch.admin.accounts import set_key_cost_ceiling

    accounts, _, _ = ctx.repos()
    try:
        key = set_key_cost_ceiling(accounts, args.account, args.key_id, args.max_cost_per_call)
    except LookupError as exc:
        raise SystemExit(f"error: {exc}") from None
    ctx.emit({"key_id": key.key_id, "max_cost_per_call_micros": key.max_cost_per_call_micros},
             f"{key.key_id} ({key.prefix}...): MCP per-call ceiling {_ceiling_text(key.max_cost_per_call_micros)}")
    return 0


def cmd_list_keys(ctx: _Context, args: argparse.Namespace) -> int:
    accounts, _, _ = ctx.repos()
    keys = sorted(accounts.list_keys(args.account), key=lambda k: k.created_at)
    rows = [{"key_id": k.key_id, "prefix": k.prefix, "created_at": k.created_at, "revoked_at": k.revoked_at,
             "max_cost_per_call_micros": k.max_cost_per_call_micros} for k in keys]
    lines = [f"{k.key_id}  {k.prefix}...  created {_when(k.created_at)}  "
             f"{'revoked ' + _when(k.revoked_at) if k.revoked_at else 'active'}"
             + (f"  MCP ceiling {format_usd(k.max_cost_per_call_micros)}" if k.max_cost_per_call_micros is not None
                else "") for k in keys]
    ctx.emit(rows, "\n".join(lines) or "no keys")
    return 0


def cmd_revoke_key(ctx: _Context, args: argparse.Namespace) -> int:
    from retouch.admin.accounts import revoke_key

    accounts, _, _ = ctx.repos()
    try:
        key = revoke_key(accounts, args.account, args.key_id)
    except LookupError as exc:
        raise SystemExit(f"error: {exc}") from None
    ctx.emit({"key_id": key.key_id, "revoked": True},
             f"revoked {key.key_id} ({key.prefix}...); refused within 30 s (the authorizer's cache)")
    return 0


def _set(ctx: _Context, account_id: str, fields: dict[str, Any]) -> int:
    from retouch.ports import AccountMissing

    _, ledger, _ = ctx.repos()
    try:
        account = ledger.set_fields(account_id, fields)
    except AccountMissing:
        raise SystemExit(f"error: no account {account_id}") from None
    ctx.emit(account.model_dump(), _account_text(account))
    return 0


def cmd_suspend(ctx: _Context, args: argparse.Namespace) -> int:
    return _set(ctx, args.account, {"status": "suspended"})


def cmd_activate(ctx: _Context, args: argparse.Namespace) -> int:
    return _set(ctx, args.account, {"status": "active"})


def cmd_set_limits(ctx: _Context, args: argparse.Namespace) -> int:
    fields = {k: v for k, v in {"max_in_flight": args.max_in_flight, "requests_per_minute": args.rpm}.items()
              if v is not None}
    if not fields:
        raise SystemExit("error: give --max-in-flight and/or --rpm")
    return _set(ctx, args.account, fields)


def _maybe_usd(micros: int | None) -> str:
    return "-" if micros is None else format_usd(micros)


def cmd_ledger(ctx: _Context, args: argparse.Namespace) -> int:
    _, ledger, _ = ctx.repos()
    account = _require_account(ledger, args.account)
    _, entries = ledger.account_with_ledger(args.account)
    entries = entries[-args.limit:] if args.limit else entries
    lines = [f"{datetime.fromtimestamp(e.at_ms / 1000, UTC).isoformat(timespec='milliseconds')}  "
             f"{e.kind:<7} {format_usd(e.amount_micros):>12}  balance {_maybe_usd(e.balance_after_micros):>12}  "
             f"{e.job_id or ''}{'  ' + e.outcome if e.outcome else ''}"
             f"{'  charged ' + format_usd(e.charged_micros) if e.charged_micros else ''}"
             f"{'  ' + e.note if e.note else ''}" for e in entries]
    lines.append(f"balance {format_usd(account.balance_micros)}; ledger sum "
                 f"{format_usd(sum(e.amount_micros for e in entries))} over {len(entries)} entries shown")
    ctx.emit([e.model_dump() for e in entries], "\n".join(lines))
    return 0


def cmd_reconcile(ctx: _Context, args: argparse.Namespace) -> int:
    from retouch.billing.reconcile import reconcile
    from retouch.payments.reconcile import check_payments
    from retouch.wiring import admin

    _, ledger, jobs = ctx.repos()
    payments = admin.payments(ctx.table)
    checked, differences = reconcile(ledger, jobs, args.account or None, pause_seconds=args.pause,
                                     extra_checks=[lambda account_id: check_payments(payments, account_id)])
    rows = [{"account_id": d.account_id, "check": d.check, "detail": d.detail} for d in differences]
    text = "\n".join(f"DIFFERENCE {d.account_id} [{d.check}] {d.detail}" for d in differences)
    text += f"\n{checked} accounts checked, {len(differences)} differences" if text else \
        f"{checked} accounts checked: every balance equals its ledger"
    ctx.emit({"accounts_checked": checked, "differences": rows}, text.strip())
    return 1 if differences else 0


def cmd_payments(ctx: _Context, args: argparse.Namespace) -> int:
    from retouch.payments.top_ups import payment_view
    from retouch.wiring import admin

    payments = admin.payments(ctx.table).account_payments(args.account)
    views = [payment_view(p) for p in payments]
    lines = [f"{v.id}  {v.status:<18} {format_usd(v.amount_micros):>14}  refunded {format_usd(v.refunded_micros)}  "
             f"disputed {format_usd(v.disputed_micros)}  {v.receipt_url or ''}" for v in views]
    ctx.emit([v.model_dump() for v in views], "\n".join(lines) or "no payments")
    return 0


def cmd_release_orphan_holds(ctx: _Context, args: argparse.Namespace) -> int:
    from retouch.billing.reconcile import release_orphan_holds

    _, ledger, jobs = ctx.repos()
    _require_account(ledger, args.account)
    released = release_orphan_holds(ledger, jobs, args.account)
    ctx.emit({"released": released}, "\n".join(f"released {micros} held for {job_id}" for job_id, micros
                                                 in released.items()) or "no orphan holds")
    return 0


def cmd_usage(ctx: _Context, args: argparse.Namespace) -> int:
    from retouch.billing.usage import usage_report

    _, ledger, jobs = ctx.repos()
    _require_account(ledger, args.account)
    report = usage_report(jobs, args.account, args.start, args.end, group_by=args.group_by)
    lines = [f"{b.date or '':<10} {b.model or '':<18} {b.user or ('-' if 'user' in report.group_by else ''):<24} "
             f"{b.jobs:>6} jobs {b.images:>6} images {format_usd(b.cost_micros):>12}" for b in report.data]
    lines.append(f"{report.start} .. {report.end}: {report.total_jobs} jobs, {report.total_images} images, "
                 f"{format_usd(report.total_cost_micros)}")
    ctx.emit(report.model_dump(mode="json", exclude_none=True), "\n".join(lines))
    return 0


def _since(text: str) -> int:
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {text}") from exc
    return int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp())


def cmd_margin(ctx: _Context, args: argparse.Namespace) -> int:
    from retouch.billing.margin import cost_estimates, margins
    from retouch.routing.document import load_routing

    _, ledger, jobs = ctx.repos()
    estimates = cost_estimates(load_routing(args.routing))
    rows = margins((job for account_id in ledger.account_ids() for job in jobs.created_between(account_id, args.since)),
                   estimates)
    data = [{"model": r.model, "upstream": r.upstream, "jobs": r.jobs, "images": r.images,
             "revenue_micros": r.revenue_micros, "upstream_cost_micros": r.upstream_cost_micros,
             "margin_micros": r.margin_micros, "jobs_without_cost": r.jobs_without_cost,
             "input_cost_micros": r.input_cost_micros, "input_revenue_micros": r.input_revenue_micros,
             "unserved_paid_calls": r.unserved_paid_calls, "unserved_cost_micros": r.unserved_cost_micros,
             "unserved_without_cost": r.unserved_without_cost, "net_margin_micros": r.net_margin_micros}
            for r in rows]
    lines = [f"{'model':<18} {'upstream':<14} {'jobs':>6} {'revenue':>12} {'upstream cost':>14} {'margin':>12} "
             f"{'input cost':>12} {'input rev.':>12}"]
    lines += [f"{r.model:<18} {r.upstream:<14} {r.jobs:>6} {format_usd(r.revenue_micros):>12} "
              f"{format_usd(r.upstream_cost_micros):>14} {format_usd(r.margin_micros):>12} "
              f"{format_usd(r.input_cost_micros):>12} {format_usd(r.input_revenue_micros):>12}"
              + (f"  ({r.jobs_without_cost} jobs of unknown cost left out of the margin)" if r.jobs_without_cost
                 else "")
              + (f"  {r.unserved_paid_calls} unserved paid calls, {format_usd(r.unserved_cost_micros)} "
                 f"(net {format_usd(r.net_margin_micros)}"
                 + (f"; {r.unserved_without_cost} of unknown cost)" if r.unserved_without_cost else ")")
                 if r.unserved_paid_calls else "") for r in rows]
    ctx.emit(data, "\n".join(lines) if rows else f"no succeeded jobs since {_when(args.since)}")
    return 0


_Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"  # not subscriptable at run time
_Handler = Callable[[_Context, argparse.Namespace], int]


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="retouch-admin", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--table", default=os.environ.get("RETOUCH_TABLE_NAME"),
                     help="the stack's TableName output (default: $RETOUCH_TABLE_NAME)")
    top.add_argument("--endpoint-url", default=None,
                     help="AWS endpoint, e.g. the local stack's (default: $AWS_ENDPOINT_URL, else AWS)")
    top.add_argument("--region", default=None, help="AWS region (default: as the AWS CLI)")
    top.add_argument("--json", action="store_true", help="print JSON")
    commands = top.add_subparsers(dest="command", required=True, metavar="command")
    _add_account_commands(commands)
    _add_key_commands(commands)
    _add_access_commands(commands)
    _add_books_commands(commands)
    add_webhook_commands(commands)  # webhooks show|set-url|clear-url|rotate-secret|retire-old-secrets
    add_console_commands(commands)  # console add-operator
    return top


def _command(commands: _Subparsers, name: str, handler: _Handler, help_text: str) -> argparse.ArgumentParser:
    sub = commands.add_parser(name, help=help_text, description=help_text)
    sub.set_defaults(handler=handler)
    return sub


def _add_account_commands(commands: _Subparsers) -> None:
    sub = _command(commands, "create-account", cmd_create_account,
                   "create an active account (balance 0 unless --credit)")
    sub.add_argument("--name", required=True)
    sub.add_argument("--id", help="account id (acct_ + 16-32 letters/digits); default: random")
    sub.add_argument("--credit", type=_usd, help="starting credit in dollars, e.g. 25.00")
    sub.add_argument("--note", help="ledger note for --credit")
    sub.add_argument("--max-in-flight", type=_positive, default=10, help="jobs queued or running at once (10)")
    sub.add_argument("--rpm", type=_positive, default=60, help="requests per minute (60)")
    _command(commands, "index-accounts", cmd_index_accounts,
             "enter every account in the account directory the console's operator pages list (once, after upgrading: "
             "accounts made before it existed)")
    sub = _command(commands, "show-account", cmd_show_account, "balance, status, in-flight jobs and limits")
    sub.add_argument("account")
    sub = _command(commands, "add-credit", cmd_add_credit,
                   "add credit in dollars (a negative amount corrects a mistake; never below zero)")
    sub.add_argument("account")
    sub.add_argument("amount", type=_usd, help="dollars, exact to the micro-dollar, e.g. 50 or 0.25")
    sub.add_argument("--note", required=True, help="why (kept on the ledger entry)")


def _add_key_commands(commands: _Subparsers) -> None:
    sub = _command(commands, "create-key", cmd_create_key, "issue an API key (printed once)")
    sub.add_argument("account")
    sub.add_argument("--max-cost-per-call", type=_ceiling, default=None,
                     help="the most one MCP call with this key may hold, in dollars (default: the deployment's)")
    sub = _command(commands, "list-keys", cmd_list_keys, "the account's keys: id, visible prefix, created, revoked")
    sub.add_argument("account")
    sub = _command(commands, "revoke-key", cmd_revoke_key, "revoke a key by id (refused within 30 s)")
    sub.add_argument("account")
    sub.add_argument("key_id")
    sub = _command(commands, "set-key-limit", cmd_set_key_limit,
                   "set or clear a key's MCP per-call ceiling (the lower of it and the deployment's applies)")
    sub.add_argument("account")
    sub.add_argument("key_id")
    sub.add_argument("--max-cost-per-call", type=_ceiling_or_none, required=True, metavar="USD|none",
                     help="dollars, e.g. 0.50, or none to use the deployment's ceiling only")


def _add_access_commands(commands: _Subparsers) -> None:
    """Whether and how fast an account may call: suspension and limits."""
    sub = _command(commands, "suspend", cmd_suspend,
                   "suspend an account: submissions refused at once, all calls within 30 s")
    sub.add_argument("account")
    sub = _command(commands, "activate", cmd_activate, "re-activate a suspended account")
    sub.add_argument("account")
    sub = _command(commands, "set-limits", cmd_set_limits, "change the in-flight and/or requests-per-minute limits")
    sub.add_argument("account")
    sub.add_argument("--max-in-flight", type=_positive)
    sub.add_argument("--rpm", type=_positive)


def _add_books_commands(commands: _Subparsers) -> None:
    """The ledger, its reconciliation against accounts and jobs, and the margin."""
    sub = _command(commands, "ledger", cmd_ledger, "the account's ledger, oldest first")
    sub.add_argument("account")
    sub.add_argument("--limit", type=int, default=0, help="only the last N entries")
    sub = _command(commands, "reconcile", cmd_reconcile,
                   "check every account (or --account) against its ledger, jobs and Stripe payments; exit 1 on any "
                   "difference")
    sub.add_argument("--account", action="append", help="only this account (repeatable)")
    sub.add_argument("--pause", type=float, default=1.0, help="seconds before re-checking a difference (1)")
    sub = _command(commands, "payments", cmd_payments,
                   "the account's Stripe payments: amount, refunds and disputes taken back, receipt")
    sub.add_argument("account")
    sub = _command(commands, "release-orphan-holds", cmd_release_orphan_holds,
                   "give back an account's holds whose job does not exist (a hold that landed after its submit gave "
                   "up and deleted the job)")
    sub.add_argument("account")
    sub = _command(commands, "usage", cmd_usage,
                   "jobs, images and cost per day and model, or per end user (--group-by user)")
    sub.add_argument("account")
    sub.add_argument("--group-by", default=None, help="comma-separated: day, model, user (default day,model)")
    sub.add_argument("--start", default=None, help="first UTC day, YYYY-MM-DD (default: 30 days ago)")
    sub.add_argument("--end", default=None, help="last UTC day, YYYY-MM-DD (default: today)")
    sub = _command(commands, "margin", cmd_margin,
                   "revenue, upstream cost and margin per model and upstream since a time")
    sub.add_argument("--since", type=_since, required=True, help="ISO-8601, e.g. 2026-05-01 or 2026-05-01T12:00Z")
    sub.add_argument("--routing", default="default.json",
                     help="routing document whose cost_per_image_usd prices unserved calls (default: the bundled one)")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not args.table:
        print("error: give --table or set RETOUCH_TABLE_NAME (the stack's TableName output)", file=sys.stderr)
        return 2
    if args.endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url
    if args.region:
        os.environ["AWS_DEFAULT_REGION"] = args.region
    from botocore.exceptions import NoCredentialsError, NoRegionError

    try:
        handler: _Handler = args.handler
        return handler(_Context(table=args.table, as_json=args.json), args)
    except (NoRegionError, NoCredentialsError) as exc:
        print(f"error: {exc} Set AWS_DEFAULT_REGION and AWS credentials (any values for the local stack).",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
