"""In-memory Ledger, RateCounter, LedgerReader and JobHistory (see retouch.ports), and the billing tests' givens."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from retouch.billing.charges import JobBilling
from retouch.billing.prices import price_table
from retouch.models.account_records import AccountRecord, LedgerEntry
from retouch.models.records import JobRecord
from retouch.ports import AccountMissing, CreditRefused, CreditWritten, HoldRefused, Movement, RateCount, WindowCount
from tests.fakes.jobs import FakeJobRepository

if TYPE_CHECKING:
    from retouch import ports


def account(balance: int = 1_000_000, **fields: Any) -> AccountRecord:
    return AccountRecord(account_id="acct_unit000000000000000", name="unit", created_at=1,
                         balance_micros=balance, **fields)


def job(**fields: Any) -> JobRecord:
    values: dict[str, Any] = dict(job_id="job_" + "u" * 24, account_id="acct_unit000000000000000", kind="generation",
                                  status="queued", model="gpt-image-2",
                                  request={"quality": "low", "size": "1024x1024", "n": 1},
                                  created_at=1_700_000_000, expires_at=1_800_000_000)
    values.update(fields)
    return JobRecord(**values)


class FakeLedger:
    """The account item and its moves as retouch/data/ledger.py makes them: a hold or a release is one atomic step on
    the account, idempotent by its `holds`; an entry is written with its job's pending flag cleared (given `jobs`,
    in the same step, as the table's transaction does; without, the entry alone: billing on its own)."""

    def __init__(self, state: AccountRecord | None, *, jobs: FakeJobRepository | None = None) -> None:
        self.state = state
        self.jobs = jobs
        self.entries: list[LedgerEntry] = []
        self.reads = 0
        self.writes = 0
        self.rate: dict[int, int] = {}

    def get_account(self, account_id: str) -> AccountRecord | None:
        self.reads += 1
        return self.state.model_copy(deep=True) if self.state else None

    def count_request(self, account_id: str, window: int) -> RateCount:
        if self.state is None:
            raise AccountMissing(account_id)
        count = self.rate.get(window, 0)
        if count >= self.state.requests_per_minute:
            return RateCount(self.state.model_copy(deep=True), count, False)
        self.rate[window] = count + 1
        return RateCount(self.state.model_copy(deep=True), count + 1, True)

    def hold(self, account_id: str, job_id: str, micros: int) -> Movement:
        self.writes += 1
        state = self.state
        if state is not None and job_id in state.holds:
            return Movement(applied=False, balance_after_micros=None)
        if (state is None or state.status != "active" or state.balance_micros < micros
                or state.in_flight >= state.max_in_flight):
            raise HoldRefused(state.model_copy(deep=True) if state else None)
        state.balance_micros -= micros
        state.in_flight += 1
        state.holds[job_id] = micros
        return Movement(applied=True, balance_after_micros=state.balance_micros)

    def release(self, account_id: str, job_id: str, micros: int) -> Movement:
        self.writes += 1
        state = self.state
        if state is None or job_id not in state.holds:
            return Movement(applied=False, balance_after_micros=None)
        del state.holds[job_id]
        state.balance_micros += micros
        state.in_flight -= 1
        return Movement(applied=True, balance_after_micros=state.balance_micros)

    def is_held(self, account_id: str, job_id: str) -> bool:
        self.reads += 1
        return self.state is not None and job_id in self.state.holds

    def _confirm(self, entry: LedgerEntry, flag: str) -> bool:
        self.writes += 1
        if any(e.entry_id == entry.entry_id for e in self.entries):
            return False
        if self.jobs is not None:
            item = self.jobs.items.get(entry.job_id or "")
            if item is None or flag not in item:
                return False
            item.pop(flag)
            if flag == "release_pending":
                item.pop("watch_at", None)  # off the sweep index
        self.entries.append(entry)
        return True

    def confirm_hold(self, entry: LedgerEntry) -> bool:
        return self._confirm(entry, "hold_pending")

    def confirm_release(self, entry: LedgerEntry) -> bool:
        return self._confirm(entry, "release_pending")

    def release_unmapped(self, entry: LedgerEntry) -> Movement:
        self.writes += 1
        if self.state is None or any(e.entry_id == entry.entry_id for e in self.entries):
            return Movement(applied=False, balance_after_micros=None)
        if self.jobs is not None:
            item = self.jobs.items.get(entry.job_id or "")
            if item is None or "release_pending" not in item:
                return Movement(applied=False, balance_after_micros=None)
            item.pop("release_pending")
            item.pop("watch_at", None)
        self.state.balance_micros += entry.amount_micros
        self.state.in_flight -= 1
        self.entries.append(entry)
        return Movement(applied=True, balance_after_micros=None)

    def credit(self, entry: LedgerEntry) -> None:
        self.writes += 1
        if self.state is None or self.state.balance_micros + entry.amount_micros < 0:
            raise CreditRefused(self.state.model_copy(deep=True) if self.state else None)
        if self.entry(entry.account_id, entry.entry_id) is not None:
            raise CreditWritten(entry.entry_id)
        self.state.balance_micros += entry.amount_micros
        self.entries.append(entry)

    def entry(self, account_id: str, entry_id: str) -> LedgerEntry | None:
        return next((e for e in self.entries if e.entry_id == entry_id and e.account_id == account_id), None)


def billing_over(jobs: FakeJobRepository, state: AccountRecord | None = None) -> JobBilling:
    """JobBilling as the functions wire it, over `jobs` and a FakeLedger whose one account (read for any id) has
    credit and in-flight room to spare unless `state` says otherwise."""
    state = state or account(10**12, max_in_flight=10**6, requests_per_minute=10**6)
    return JobBilling(ledger=FakeLedger(state, jobs=jobs), jobs=jobs, prices=price_table())


class FakeLedgerReader:
    """account_with_ledger for reconciliation."""

    def __init__(self, state: AccountRecord, entries: list[LedgerEntry]) -> None:
        self.state, self.entries = state, entries

    def account_with_ledger(self, account_id: str) -> tuple[AccountRecord, list[LedgerEntry]]:
        return self.state, list(self.entries)

    def account_ids(self) -> list[str]:
        return [self.state.account_id]

    def ledger_page(self, account_id: str, *, limit: int, cursor: str | None = None,
                    newest_first: bool = True) -> tuple[list[LedgerEntry], str | None]:
        ordered = sorted(self.entries, key=lambda e: (e.at_ms, e.entry_id), reverse=newest_first)
        start = int(cursor or 0)
        return ordered[start:start + limit], str(start + limit) if start + limit < len(ordered) else None


class FakeAccountJobs:
    def __init__(self, jobs: list[JobRecord]) -> None:
        self.jobs = jobs

    def created_between(self, account_id: str, start: int = 0, end: int = 10**12) -> list[JobRecord]:
        return [j for j in self.jobs if start <= j.created_at <= end]


class FakeReadCounter:
    """Per account and window, as data/read_counts.py counts them (one conditional add, refused at the limit)."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, int], int] = {}

    def count_read(self, account_id: str, window: int, limit: int) -> WindowCount:
        count = self.counts.get((account_id, window), 0)
        if count >= limit:
            return WindowCount(limit, False)
        self.counts[(account_id, window)] = count + 1
        return WindowCount(count + 1, True)


if TYPE_CHECKING:  # mypy checks each fake against its port
    _ledger: ports.Ledger = FakeLedger(None)
    _rate: ports.RateCounter = FakeLedger(None)
    _credits: ports.CreditLedger = FakeLedger(None)
    _reader: ports.LedgerReader = FakeLedgerReader(account(), [])
    _history: ports.JobHistory = FakeAccountJobs([])
    _reads: ports.ReadCounter = FakeReadCounter()
