"""Reconciliation: does every account's money add up?

For each account, from one strongly consistent read of its partition (the account and all its entries) and
its jobs (gsi1):
  1. balance == sum of its ledger entries, and balance >= 0;
  2. the entries' balance_after values chain from 0 to the sum (see `_chain_breaks`);
  3. every priced job that still exists (jobs expire after 30 days; entries never do) has exactly one reserve
     of -reserved, and a settle iff it has ended, whose charge is the job's usage.cost_micros;
  4. in_flight == the number of priced jobs queued or running.
A live system can be read between a transaction's items only in theory (queries are not snapshots), so an
account with differences is read again after a pause; only differences that persist are reported.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from retouch.models.account_records import LedgerEntry
from retouch.ports import JobHistory, LedgerReader


@dataclass(frozen=True)
class Difference:
    account_id: str
    check: str
    detail: str


def _chain_breaks(entries: list[LedgerEntry], balance: int) -> list[str]:
    """Each entry moves the balance from (balance_after - amount) to balance_after. Ordered by commit, they form
    one path from 0 to the balance: every value is entered as often as it is left, except 0 (left once more)
    and the balance (entered once more). Checked on counts, so no ordering (clocks can disagree) is assumed."""
    if not entries:
        return []
    flow: Counter[int] = Counter()
    for entry in entries:
        flow[entry.balance_after_micros - entry.amount_micros] += 1
        flow[entry.balance_after_micros] -= 1
    flow[0] -= 1
    flow[balance] += 1
    return [f"balance value {value} is left {count:+d} more times than it is reached by the entries"
            for value, count in sorted(flow.items()) if count]


def check_account(ledger: LedgerReader, jobs: JobHistory, account_id: str) -> list[Difference]:
    account, entries = ledger.account_with_ledger(account_id)
    found: list[Difference] = []

    def differ(check: str, detail: str) -> None:
        found.append(Difference(account_id, check, detail))

    if account is None:
        return [Difference(account_id, "account", "the account does not exist")]
    total = sum(e.amount_micros for e in entries)
    if total != account.balance_micros:
        differ("balance", f"balance is {account.balance_micros} but the ledger sums to {total} "
                          f"(difference {account.balance_micros - total})")
    if account.balance_micros < 0:
        differ("balance", f"balance is negative: {account.balance_micros}")
    for problem in _chain_breaks(entries, total):
        differ("chain", problem)

    by_job: dict[str, dict[str, list[LedgerEntry]]] = {}
    for entry in entries:
        if entry.job_id:
            by_job.setdefault(entry.job_id, {}).setdefault(entry.kind, []).append(entry)
    in_flight = 0
    for job in jobs.created_between(account_id):
        if job.reserved_micros is None:
            continue
        kinds = by_job.get(job.job_id, {})
        reserves, settles = kinds.get("reserve", []), kinds.get("settle", [])
        if [e.amount_micros for e in reserves] != [-job.reserved_micros]:
            differ("job", f"{job.job_id}: reserved {job.reserved_micros} but reserve entries are "
                          f"{[e.amount_micros for e in reserves]}")
        if not job.is_terminal:
            in_flight += 1
            if settles:
                differ("job", f"{job.job_id} is {job.status} but was settled")
            continue
        charged = int((job.usage or {}).get("cost_micros", 0) or 0)
        if len(settles) != 1:
            differ("job", f"{job.job_id} is {job.status} and has {len(settles)} settle entries (expected 1)")
        elif settles[0].amount_micros != job.reserved_micros - charged or settles[0].charged_micros != charged:
            differ("job", f"{job.job_id}: charged {charged} of {job.reserved_micros} but the settle entry "
                          f"returns {settles[0].amount_micros}")
    if in_flight != account.in_flight:
        differ("in_flight", f"in_flight is {account.in_flight} but {in_flight} priced jobs are queued or running")
    return found


def reconcile(ledger: LedgerReader, jobs: JobHistory, account_ids: Iterable[str] | None = None, *,
              rechecks: int = 2, pause_seconds: float = 1.0,
              sleep: Callable[[float], None] = time.sleep) -> tuple[int, list[Difference]]:
    """(accounts checked, differences that persisted over `rechecks` re-reads)."""
    checked = 0
    differences: list[Difference] = []
    for account_id in account_ids if account_ids is not None else ledger.account_ids():
        checked += 1
        found = check_account(ledger, jobs, account_id)
        for _ in range(rechecks):
            if not found:
                break
            sleep(pause_seconds)
            found = check_account(ledger, jobs, account_id)
        differences.extend(found)
    return checked, differences
