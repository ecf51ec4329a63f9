"""In-memory stand-ins for the billing data layer (LedgerRepository, JobRepository, AccountJobs)."""

from __future__ import annotations

from typing import Any

from retouch.data.idempotency import KeyTaken
from retouch.data.ledger import AccountChanged, AccountMissing, JobStateChanged, RateCount
from retouch.models.idempotency import IdempotencyRecord
from retouch.models.records import AccountRecord, JobRecord, LedgerEntry


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
    """Applies movements like the DynamoDB transactions do: only if the balance is still the one read."""

    def __init__(self, state: AccountRecord | None, *, moves_before: list[int] | None = None) -> None:
        self.state = state
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
        held = self.keys.get((key.account_id, key.key_hash)) if key else None
        if key is not None and held is not None and held.expires_at >= key.created_at:
            raise KeyTaken(held)

    def _keep_key(self, key: IdempotencyRecord | None) -> None:
        if key is not None:
            self.keys[(key.account_id, key.key_hash)] = key

    def reserve(self, job_item: dict[str, Any], entry: LedgerEntry, *, expected_balance: int,
                key: IdempotencyRecord | None = None) -> None:
        self._check_key(key)
        self._apply(entry, expected_balance, 1, True)
        self._keep_key(key)

    def settle(self, job_update: dict[str, Any], entry: LedgerEntry, *, expected_balance: int,
               key: IdempotencyRecord | None = None) -> None:
        self._check_key(key)
        if self.job_ended or entry.job_id in self.settled_jobs:
            raise JobStateChanged()
        self._apply(entry, expected_balance, -1, False)
        self.settled_jobs.add(entry.job_id or "")
        self._keep_key(key)

    def credit(self, entry: LedgerEntry, *, expected_balance: int) -> None:
        self._apply(entry, expected_balance, 0, False)


class FakeJobs:
    """Only what billing asks of the job repository: bare updates it hands to the ledger."""

    def __init__(self, stored: JobRecord | None = None) -> None:
        self.stored = stored

    def get(self, job_id: str) -> JobRecord | None:
        return self.stored

    def finish_update(self, job_id: str, *, token: str, status: str, fields: dict[str, Any]) -> dict[str, Any]:
        return {"job_id": job_id, "status": status, "fields": fields}

    def fail_unfinished_update(self, job_id: str, *, error: Any, now: int) -> dict[str, Any]:
        return {"job_id": job_id, "status": "failed"}

    def cancel_update(self, job_id: str, *, now: int) -> dict[str, Any]:
        return {"job_id": job_id, "status": "canceled"}


class FakeLedgerReader:
    """account_with_ledger for reconciliation."""

    def __init__(self, state: AccountRecord, entries: list[LedgerEntry]) -> None:
        self.state, self.entries = state, entries

    def account_with_ledger(self, account_id: str) -> tuple[AccountRecord, list[LedgerEntry]]:
        return self.state, list(self.entries)

    def account_ids(self) -> list[str]:
        return [self.state.account_id]


class FakeAccountJobs:
    def __init__(self, jobs: list[JobRecord]) -> None:
        self.jobs = jobs

    def created_between(self, account_id: str, start: int = 0, end: int = 10**12) -> list[JobRecord]:
        return [j for j in self.jobs if start <= j.created_at <= end]
