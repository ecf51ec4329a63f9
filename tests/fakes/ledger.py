"""In-memory Ledger, RateCounter, LedgerReader and JobHistory (see retouch.ports), and the billing tests' givens."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from retouch.billing.charges import JobBilling
from retouch.billing.prices import price_table
from retouch.data.account_state import AccountChanged, AccountMissing, RateCount
from retouch.data.idempotency import KeyTaken
from retouch.data.jobs import job_record
from retouch.data.ledger import JobStateChanged
from retouch.models.account_records import AccountRecord, LedgerEntry
from retouch.models.idempotency import IdempotencyRecord
from retouch.models.records import JobRecord
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
    """Applies movements like the DynamoDB transactions do: only if the balance is still the one read.

    Given `jobs`, a reservation creates the job there and a settlement applies the job's own update there, in the
    same all-or-nothing step, as the table's transactions do; without, job writes are left out (billing alone)."""

    def __init__(self, state: AccountRecord | None, *, moves_before: list[int] | None = None,
                 jobs: FakeJobRepository | None = None) -> None:
        self.state = state
        self.jobs = jobs
        self.entries: list[LedgerEntry] = []
        self.settled_jobs: set[str] = set()
        self.job_ended = False
        # Amounts another writer moves the balance by just before each of our next writes (a race).
        self.moves_before = list(moves_before or [])
        self.reads = 0
        self.writes = 0
        self.rate: dict[int, int] = {}
        self.keys: dict[tuple[str, str], IdempotencyRecord] = {}  # Idempotency-Key records reserved with movements

    def get_account(self, account_id: str) -> AccountRecord | None:
        self.reads += 1
        return self.state.model_copy() if self.state else None

    def count_request(self, account_id: str, window: int) -> RateCount:
        if self.state is None:
            raise AccountMissing(account_id)
        count = self.rate.get(window, 0)
        if count >= self.state.requests_per_minute:
            return RateCount(self.state.model_copy(), count, False)
        self.rate[window] = count + 1
        return RateCount(self.state.model_copy(), count + 1, True)

    def _race(self) -> None:
        if self.moves_before:
            assert self.state is not None
            self.state.balance_micros += self.moves_before.pop(0)

    def _apply(self, entry: LedgerEntry, expected: int, in_flight: int, reserve: bool) -> None:
        self.writes += 1
        self._race()
        assert self.state is not None
        if self.state.balance_micros != expected:
            raise AccountChanged(self.state.model_copy())
        if reserve and (self.state.balance_micros + entry.amount_micros < 0
                        or self.state.in_flight >= self.state.max_in_flight or self.state.status != "active"):
            raise AccountChanged(self.state.model_copy())
        assert entry.balance_after_micros == expected + entry.amount_micros
        self.state.balance_micros += entry.amount_micros
        self.state.in_flight += in_flight
        self.entries.append(entry)

    def _check_key(self, key: IdempotencyRecord | None) -> None:
        """Like the reservation in the transaction: refused (with the holder) while a live record holds the key."""
        if key is not None and self.jobs is not None:
            self.jobs.keys.check(key)
            return
        held = self.keys.get((key.account_id, key.key_hash)) if key else None
        if key is not None and held is not None and held.expires_at >= key.created_at:
            raise KeyTaken(held)

    def _keep_key(self, key: IdempotencyRecord | None) -> None:
        if key is not None and self.jobs is not None:
            self.jobs.keys.reserve(key)
        elif key is not None:
            self.keys[(key.account_id, key.key_hash)] = key

    def reserve(self, job_item: dict[str, Any], entry: LedgerEntry, *, expected_balance: int,
                key: IdempotencyRecord | None = None) -> None:
        self._check_key(key)
        if self.jobs is not None and entry.job_id in self.jobs.items:
            raise JobStateChanged()
        if self.jobs is None:
            self._apply(entry, expected_balance, 1, True)
            self._keep_key(key)
            return
        before = dict(self.jobs.keys.records)
        self.jobs.create(job_record(job_item), key=key)  # reserves the key too
        try:
            self._apply(entry, expected_balance, 1, True)
        except AccountChanged:
            self.jobs.items.pop(entry.job_id or "", None)
            self.jobs.keys.records = before
            raise

    def settle(self, job_update: dict[str, Any], entry: LedgerEntry, *, expected_balance: int,
               key: IdempotencyRecord | None = None) -> None:
        self._check_key(key)
        if self.job_ended or entry.job_id in self.settled_jobs:
            raise JobStateChanged()
        undo = self.jobs.write_in_transaction(job_update) if self.jobs is not None else None
        if self.jobs is not None and undo is None:
            raise JobStateChanged()
        try:
            self._apply(entry, expected_balance, -1, False)
        except AccountChanged:
            if undo is not None:
                undo()
            raise
        self.settled_jobs.add(entry.job_id or "")
        self._keep_key(key)

    def credit(self, entry: LedgerEntry, *, expected_balance: int) -> None:
        self._apply(entry, expected_balance, 0, False)


def billing_over(jobs: FakeJobRepository, state: AccountRecord | None = None) -> JobBilling:
    """JobBilling as the functions wire it, over `jobs` and a FakeLedger whose one account (read for any id) has
    credit and in-flight room to spare unless `state` says otherwise."""
    state = state or account(10**12, max_in_flight=10**6, requests_per_minute=10**6)
    return JobBilling(ledger=FakeLedger(state, jobs=jobs), jobs=jobs, prices=price_table(), sleep=lambda _s: None)


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


if TYPE_CHECKING:  # mypy checks each fake against its port
    _ledger: ports.Ledger = FakeLedger(None)
    _rate: ports.RateCounter = FakeLedger(None)
    _reader: ports.LedgerReader = FakeLedgerReader(account(), [])
    _history: ports.JobHistory = FakeAccountJobs([])
