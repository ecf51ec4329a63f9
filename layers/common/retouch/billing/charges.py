"""Where a job is charged: reserve at submit, settle at its terminal transition, release when it fails.

- reserve: n x unit price held from the balance in the same transaction that creates the job `queued`
  (condition: the balance as read, >= the price; in-flight below the limit; account active).
- settle: the job's terminal update (conditional on its state and claim) + the account update + one ledger
  entry, in one transaction. Success charges the images produced and releases the rest; any other end
  releases everything. Because the job's condition is in the transaction, a second delivery, a crashed
  worker's successor or the dead-letter path can settle a job at most once; the ledger entry's key
  (`<job_id>.settle`, put only if absent) makes that true even if the job's condition were ever wrong.
- cancel: a queued job's cancellation is settled the same way (conditional on `queued`), everything released.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from retouch.billing.money import format_usd
from retouch.billing.prices import PriceTable
from retouch.data.account_state import AccountChanged
from retouch.data.idempotency import KeyTaken
from retouch.data.jobs import job_item
from retouch.data.ledger import JobStateChanged
from retouch.errors import AccountBusy, ConcurrencyLimited, InsufficientCredits, JobConflict, Unauthenticated
from retouch.models.account_records import AccountRecord, LedgerEntry
from retouch.models.idempotency import IdempotencyRecord
from retouch.models.outcome import JobOutcome
from retouch.models.records import JobError, JobRecord
from retouch.observability.metrics import cost_charged
from retouch.ports import JobRepository, Ledger

logger = Logger(child=True)

# Optimistic retries when the balance moved between our read and our write (concurrent submits/settlements). With
# n writers on one account each try wins about 1 in n: 60 tries lost a submit now and then to 8 submitters and the
# workers' settlements (the fault run's 503 account_busy); 150 tries (about 20 s of backoff at worst, inside API
# Gateway's 30 s) make that vanishingly rare. The lasting fix is a balance update that needs no expected value.
MAX_ATTEMPTS = 150
# What a client waiting on the in-flight limit is told to wait before retrying.
CONCURRENCY_RETRY_AFTER_SECONDS = 5


class BillingContention(AccountBusy):
    """The account changed under every attempt (extreme contention on one account): a 503, retried by clients."""

    def __init__(self, message: str) -> None:
        super().__init__("The account is busy; retry shortly.")
        self.detail = message


def now_ms() -> int:
    return int(time.time() * 1000)


def _backoff(attempt: int, sleep: Callable[[float], None]) -> None:
    sleep(random.uniform(0, min(0.25, 0.02 * (2 ** min(attempt, 6)))))


def check_can_reserve(account: AccountRecord | None, price: int) -> AccountRecord:
    """401 suspended/missing, 402 not enough credit, 429 at the in-flight limit; else the account."""
    if account is None or account.status != "active":
        raise Unauthenticated("This account is suspended or does not exist.")
    if account.balance_micros < price:
        raise InsufficientCredits(
            f"Insufficient credits: this request costs up to {format_usd(price)} and the account's available "
            f"balance is {format_usd(account.balance_micros)}. Add credit or lower n, quality or size.")
    if account.in_flight >= account.max_in_flight:
        raise ConcurrencyLimited(
            f"The account already has {account.in_flight} jobs queued or running (limit "
            f"{account.max_in_flight}); retry when one ends.", retry_after_seconds=CONCURRENCY_RETRY_AFTER_SECONDS)
    return account


def _job_usage(images: int, cost_micros: int, provider_usage: dict[str, Any] | None = None) -> dict[str, Any]:
    """The job's stored usage: the provider's token counts plus images produced and cost (integers only)."""
    return {**(provider_usage or {}), "images": images, "cost_micros": cost_micros}


@dataclass(frozen=True)
class JobBilling:
    ledger: Ledger
    jobs: JobRepository
    prices: PriceTable
    sleep: Callable[[float], None] = field(default=time.sleep)
    max_attempts: int = MAX_ATTEMPTS

    # ---- submit ---------------------------------------------------------------------------------------------

    def price(self, record: JobRecord) -> int:
        request = record.request
        return self.prices.reservation_micros(record.model, quality=request.get("quality"),
                                              size=request.get("size"), n=int(request.get("n", 1)))

    def precheck(self, record: JobRecord, account: AccountRecord) -> AccountRecord:
        """Refuse before any input is stored (`account` as the request's admission read it); the transaction in
        `reserve` is what guarantees it."""
        return check_can_reserve(account, self.price(record))

    def reserve(self, record: JobRecord, account: AccountRecord, key: IdempotencyRecord | None = None) -> JobRecord:
        """Write the job `queued` and hold its price in one transaction (with the request's Idempotency-Key, if it
        has one); 402/429/401 when it cannot be held, KeyTaken when the key is another request's."""
        price = self.price(record)
        record.reserved_micros = price
        record.price_version = self.prices.version
        record.markup_percent = self.prices.markup_percent
        record.usage = _job_usage(0, 0)
        snapshot: AccountRecord | None = account  # the first read; a changed balance reads it again
        item = job_item(record)
        for attempt in range(self.max_attempts):
            snapshot = check_can_reserve(snapshot, price)
            entry = LedgerEntry(entry_id=f"{record.job_id}.reserve", account_id=record.account_id,
                                job_id=record.job_id, kind="reserve", amount_micros=-price,
                                balance_after_micros=snapshot.balance_micros - price, at_ms=now_ms())
            try:
                self.ledger.reserve(item, entry, expected_balance=snapshot.balance_micros, key=key)
            except KeyTaken as taken:
                if taken.existing is None or taken.existing.job_id != record.job_id:
                    raise
                # The key names this very job: this transaction committed on a try whose answer was lost.
                logger.info("credit reserved (an earlier try committed)", extra={"job_id": record.job_id})
                return record
            except AccountChanged as changed:
                snapshot = changed.current or self.ledger.get_account(record.account_id)
                _backoff(attempt, self.sleep)
                continue
            except JobStateChanged as conflict:
                # The job (or its hold) exists already: this very transaction committed on a try whose answer was
                # lost. Anything else is a job id that is not ours, which the caller must not touch.
                if self.jobs.get(record.job_id) is None:
                    raise JobConflict(f"Job {record.job_id} could not be created; retry the request.") from conflict
                logger.info("credit reserved (an earlier try committed)", extra={"job_id": record.job_id})
                return record
            logger.info("credit reserved", extra={"job_id": record.job_id, "account_id": record.account_id,
                                                  "reserved_micros": price, "tries": attempt + 1})
            return record
        raise BillingContention(f"could not reserve for {record.job_id} after {self.max_attempts} attempts")

    # ---- end of a job ---------------------------------------------------------------------------------------

    def charge_for(self, job: JobRecord, outcome: JobOutcome) -> tuple[int, int]:
        """(images produced, micro-dollars charged): the outputs priced as produced, capped at the hold."""
        if outcome.status != "succeeded":
            return 0, 0
        quality = outcome.result.get("quality") or job.request.get("quality")
        cost = self.prices.produced_micros(job.model, quality=quality,
                                           sizes=[(o.width, o.height) for o in outcome.outputs],
                                           markup_percent=job.markup_percent)
        reserved = job.reserved_micros or 0
        if cost > reserved:
            logger.warning("produced more than reserved; charging the reservation",
                           extra={"job_id": job.job_id, "cost_micros": cost, "reserved_micros": reserved})
            cost = reserved
        return len(outcome.outputs), cost

    def finish(self, job: JobRecord, *, token: str, outcome: JobOutcome) -> bool:
        """The claimed job's terminal transition with its settlement. False when another delivery owns or
        already ended the job (then nothing at all was written)."""
        if job.reserved_micros is None:  # never priced (created before billing): end it as before
            return self.jobs.finish(job.job_id, token=token, outcome=outcome)
        images, cost = self.charge_for(job, outcome)
        billed = outcome.with_usage(_job_usage(images, cost, outcome.usage))
        update = self.jobs.finish_update(job.job_id, token=token, outcome=billed)
        return self._settle(job, update, outcome=outcome.status, images=images, cost=cost)

    def release_unfinished(self, job_id: str, *, error: JobError, now: int,
                           job: JobRecord | None = None) -> bool:
        """queued|running -> failed with a full release (dead-lettered message, enqueue failure)."""
        job = job or self.jobs.get(job_id)
        if job is None or job.is_terminal:
            return False
        if job.reserved_micros is None:
            return self.jobs.fail_unfinished(job_id, error=error, now=now)
        update = self.jobs.fail_unfinished_update(job_id, error=error, now=now)
        return self._settle(job, update, outcome="failed", images=0, cost=0)

    def cancel(self, job: JobRecord, *, now: int, key: IdempotencyRecord | None = None) -> bool:
        """queued -> canceled with its whole hold released (and the request's Idempotency-Key reserved), one
        transaction. False when the job is no longer queued (a worker claimed it first, or it ended)."""
        if job.reserved_micros is None:  # never priced: nothing to release
            return self.jobs.cancel(job.job_id, now=now, key=key)
        return self._settle(job, self.jobs.cancel_update(job.job_id, now=now), outcome="canceled", images=0, cost=0,
                            key=key)

    def _settle(self, job: JobRecord, job_update: dict[str, Any], *, outcome: str, images: int, cost: int,
                key: IdempotencyRecord | None = None) -> bool:
        reserved = job.reserved_micros or 0
        released = reserved - cost
        account = self.ledger.get_account(job.account_id)
        for attempt in range(self.max_attempts):
            if account is None:
                raise LookupError(f"account {job.account_id} of job {job.job_id} does not exist")
            entry = LedgerEntry(entry_id=f"{job.job_id}.settle", account_id=job.account_id, job_id=job.job_id,
                                kind="settle", amount_micros=released,
                                balance_after_micros=account.balance_micros + released, at_ms=now_ms(),
                                charged_micros=cost, released_micros=released, outcome=outcome, images=images)
            try:
                self.ledger.settle(job_update, entry, expected_balance=account.balance_micros, key=key)
            except JobStateChanged:
                logger.info("settlement skipped: job ended elsewhere", extra={"job_id": job.job_id})
                return False
            except AccountChanged as changed:
                account = changed.current or self.ledger.get_account(job.account_id)
                _backoff(attempt, self.sleep)
                continue
            cost_charged(cost)
            logger.info("job settled", extra={"job_id": job.job_id, "account_id": job.account_id, "outcome": outcome,
                                              "charged_micros": cost, "released_micros": released,
                                              "tries": attempt + 1})
            return True
        raise BillingContention(f"could not settle {job.job_id} after {self.max_attempts} attempts")


def add_credit(ledger: Ledger, account_id: str, amount: int, note: str,
               sleep: Callable[[float], None] = time.sleep) -> LedgerEntry:
    """An operator's credit (or, with a negative amount, a correction that cannot take the balance below 0)."""
    if amount == 0:
        raise ValueError("the amount must not be zero")
    entry_id = f"credit_{uuid.uuid4().hex}"
    account = ledger.get_account(account_id)
    for attempt in range(MAX_ATTEMPTS):
        if account is None:
            raise LookupError(f"no account {account_id}")
        if account.balance_micros + amount < 0:
            raise ValueError(f"the balance is {format_usd(account.balance_micros)}; it cannot go below zero")
        entry = LedgerEntry(entry_id=entry_id, account_id=account_id, kind="credit", amount_micros=amount,
                            balance_after_micros=account.balance_micros + amount, at_ms=now_ms(), note=note)
        try:
            ledger.credit(entry, expected_balance=account.balance_micros)
            return entry
        except AccountChanged as changed:
            account = changed.current or ledger.get_account(account_id)
            _backoff(attempt, sleep)
    raise BillingContention(f"could not credit {account_id} after {MAX_ATTEMPTS} attempts")
