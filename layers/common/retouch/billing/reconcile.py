"""Reconciliation: does every account's money add up?

For each account, from one strongly consistent read of its partition (the account and all its entries) and
its jobs (gsi1):
  1. balance == sum of its ledger entries, and balance >= 0 (below zero only after a refund or dispute took back
     credit already spent: `reversal` entries, payments/);
  2. every priced job that still exists (jobs expire after 30 days; entries never do) has exactly one reserve
     of -reserved, and a settle iff it has ended, whose charge is the job's usage.cost_micros;
  3. the account's open holds are exactly its queued and running jobs, each holding its reservation, and
     in_flight == the number of holds (plus jobs in flight that were reserved before holds existed).
A move half-way (a job still `hold_pending` or `release_pending`: its writer is between steps, or died and the
sweeper has not come yet) is reported as such. A live system can be read between a move's steps, so an account
with differences is read again after a pause; only differences that persist are reported.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from retouch.models.account_records import LedgerEntry
from retouch.ports import JobHistory, Ledger, LedgerReader


@dataclass(frozen=True)
class Difference:
    account_id: str
    check: str
    detail: str


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
    if account.balance_micros < 0 and not any(e.kind == "reversal" for e in entries):
        differ("balance", f"balance is negative: {account.balance_micros}")

    by_job: dict[str, dict[str, list[LedgerEntry]]] = {}
    for entry in entries:
        if entry.job_id:
            by_job.setdefault(entry.job_id, {}).setdefault(entry.kind, []).append(entry)
    holds = dict(account.holds)
    unmapped_in_flight = 0
    for job in jobs.created_between(account_id):
        if job.reserved_micros is None:
            continue
        held = holds.pop(job.job_id, None)
        if job.hold_pending is not None or job.release_pending is not None:
            move = "hold" if job.hold_pending is not None else "release"
            differ("pending", f"{job.job_id}: a balance move is half-way ({move} pending)")
            continue
        kinds = by_job.get(job.job_id, {})
        reserves, settles = kinds.get("reserve", []), kinds.get("settle", [])
        if [e.amount_micros for e in reserves] != [-job.reserved_micros]:
            differ("job", f"{job.job_id}: reserved {job.reserved_micros} but reserve entries are "
                          f"{[e.amount_micros for e in reserves]}")
        if not job.is_terminal and not job.hold_on_account:
            unmapped_in_flight += 1  # reserved before holds existed: counted in in_flight, not in holds
        elif not job.is_terminal and held != job.reserved_micros:
            differ("hold", f"{job.job_id} is {job.status} but the account holds {held} for it "
                           f"(expected {job.reserved_micros})")
        if not job.is_terminal:
            if settles:
                differ("job", f"{job.job_id} is {job.status} but was settled")
            continue
        if held is not None:
            differ("hold", f"{job.job_id} is {job.status} but the account still holds {held} for it")
        charged = int((job.usage or {}).get("cost_micros", 0) or 0)
        if len(settles) != 1:
            differ("job", f"{job.job_id} is {job.status} and has {len(settles)} settle entries (expected 1)")
        elif settles[0].amount_micros != job.reserved_micros - charged or settles[0].charged_micros != charged:
            differ("job", f"{job.job_id}: charged {charged} of {job.reserved_micros} but the settle entry "
                          f"returns {settles[0].amount_micros}")
    for job_id, micros in holds.items():
        differ("hold", f"the account holds {micros} for {job_id}, which is not one of its jobs")
    if account.in_flight != len(account.holds) + unmapped_in_flight:
        differ("in_flight", f"in_flight is {account.in_flight} but the account has {len(account.holds)} holds "
                            f"(and {unmapped_in_flight} jobs in flight from before holds)")
    return found


def release_orphan_holds(ledger: Ledger, jobs: JobHistory, account_id: str) -> dict[str, int]:
    """Give back the account's holds whose job does not exist: a hold that landed after its submit had given up and
    deleted the job (an SDK timeout whose request was applied late). No entry was written for such a hold, so none
    is written for its release. Returns what was released, by job id."""
    account = ledger.get_account(account_id)
    if account is None or not account.holds:
        return {}
    existing = {job.job_id for job in jobs.created_between(account_id)}
    released: dict[str, int] = {}
    for job_id, micros in account.holds.items():
        if job_id not in existing and ledger.release(account_id, job_id, micros).applied:
            released[job_id] = micros
    return released


# A further check of one account, beside the ledger's own (payments/reconcile.py checks credits against payments).
AccountCheck = Callable[[str], list[Difference]]


def reconcile(ledger: LedgerReader, jobs: JobHistory, account_ids: Iterable[str] | None = None, *,
              rechecks: int = 2, pause_seconds: float = 1.0, sleep: Callable[[float], None] = time.sleep,
              extra_checks: Sequence[AccountCheck] = ()) -> tuple[int, list[Difference]]:
    """(accounts checked, differences that persisted over `rechecks` re-reads)."""

    def check(account_id: str) -> list[Difference]:
        return check_account(ledger, jobs, account_id) + [d for extra in extra_checks for d in extra(account_id)]

    checked = 0
    differences: list[Difference] = []
    for account_id in account_ids if account_ids is not None else ledger.account_ids():
        checked += 1
        found = check(account_id)
        for _ in range(rechecks):
            if not found:
                break
            sleep(pause_seconds)
            found = check(account_id)
        differences.extend(found)
    return checked, differences
