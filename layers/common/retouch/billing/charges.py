"""Where a job is charged: hold at submit, settle at its end. Exact, and no account is a serialisation point.

A balance moves only by one conditional atomic update of the account item (data/ledger.py: `hold`, `release`),
never by a transaction conditioned on the balance as read, so concurrent submits and settlements of one account
do not retry each other out (one account does what eight do). The job's own writes and the ledger entries are
separate items, made idempotent and recoverable around that one update:

  submit   1. the job, `queued` with `hold_pending` (not runnable; the Idempotency-Key with it)
           2. hold: balance >= price, in-flight room, active   -> refused: the job (and key) deleted, 402/429/401
           3. the reserve entry + hold_pending cleared (one transaction, job and entry items only)
  end      1. the job's terminal transition (models/transitions.py) with `release_pending` = hold - charge
           2. release: the account gets it back and drops the hold
           3. the settle entry + release_pending cleared (one transaction, job and entry items only)

Every step is conditional and idempotent (the account's `holds` map says whether a job holds credit), so a
second delivery, a crashed worker's successor or the dead-letter path can end a job at most once, and a writer that
dies between steps leaves a pending flag on the job item that the sweeper finishes (`complete_hold`,
`complete_release`). The books: balance == the sum of the entries, and the holds are the in-flight jobs'
(billing/reconcile.py), once no move is half-way.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from retouch.billing.end_user_quotas import EndUserQuotas
from retouch.billing.money import format_usd
from retouch.billing.prices import PriceTable
from retouch.billing.pricing_rule import Charge, job_hold_micros, settled_charge
from retouch.errors import (
    AccountInArrears,
    ConcurrencyLimited,
    InsufficientCredits,
    JobConflict,
    RetouchError,
    Unauthenticated,
)
from retouch.models.account_records import AccountRecord, LedgerEntry
from retouch.models.idempotency import IdempotencyRecord
from retouch.models.outcome import JobOutcome
from retouch.models.records import JobError, JobRecord
from retouch.models.transitions import Cancel, FailUnfinished, Finish, JobEnd
from retouch.observability.metrics import cost_charged
from retouch.ports import CreditRefused, HoldRefused, JobRepository, Ledger, Movement

logger = Logger(child=True)

# What a client waiting on the in-flight limit is told to wait before retrying.
CONCURRENCY_RETRY_AFTER_SECONDS = 5


def now_ms() -> int:
    return int(time.time() * 1000)


def check_can_reserve(account: AccountRecord | None, price: int) -> AccountRecord:
    """401 suspended/missing, 402 not enough credit, 429 at the in-flight limit; else the account."""
    if account is None or account.status != "active":
        raise Unauthenticated("This account is suspended or does not exist.")
    if account.balance_micros < 0:  # a refund or dispute took back spent credit (payments/): owed until topped up
        raise AccountInArrears(
            f"A refunded or disputed payment left this account's balance at {format_usd(account.balance_micros)}; "
            "new jobs are refused until a top-up brings it back to zero or more.")
    if account.balance_micros < price:
        raise InsufficientCredits(
            f"Insufficient credits: this request costs up to {format_usd(price)} and the account's available "
            f"balance is {format_usd(account.balance_micros)}. Add credit or lower n, quality or size.")
    if account.in_flight >= account.max_in_flight:
        raise ConcurrencyLimited(
            f"The account already has {account.in_flight} jobs queued or running (limit "
            f"{account.max_in_flight}); retry when one ends.", retry_after_seconds=CONCURRENCY_RETRY_AFTER_SECONDS)
    return account


def _job_usage(images: int, cost_micros: int, provider_usage: dict[str, Any] | None = None,
               charge: Charge | None = None) -> dict[str, Any]:
    """The job's stored usage: the provider's token counts plus images produced, cost and (once charged) how the
    pricing rule priced it."""
    usage = {**(provider_usage or {}), "images": images, "cost_micros": cost_micros}
    if charge is not None:
        usage["pricing"] = charge.stored()
    return usage


def no_balance_watch(account_id: str, balance_after_micros: int) -> None:
    """What a function that settles nothing worth watching passes (auto-recharge watches only the worker's)."""


@dataclass(frozen=True)
class JobBilling:
    ledger: Ledger
    jobs: JobRepository
    prices: PriceTable
    # A job made for an end user also holds on that end user (and its device token): billing/end_user_quotas.py.
    end_users: EndUserQuotas | None = None
    # Told the balance a charged settlement left (payments/auto_recharge.py: BalanceWatch claims a recharge when it
    # is under the account's threshold). Never called with a charge of 0: such a release lowers nothing.
    watch: Callable[[str, int], None] = no_balance_watch

    # ---- submit ---------------------------------------------------------------------------------------------

    def price(self, record: JobRecord) -> int:
        """The job's hold: the worst case of its request (billing/pricing_rule.py)."""
        return job_hold_micros(self.prices, record)

    def precheck(self, record: JobRecord, account: AccountRecord) -> AccountRecord:
        """Refuse before any input is stored (`account` as the request's admission read it); the hold in `reserve`
        is what guarantees it."""
        return check_can_reserve(account, self.price(record))

    def reserve(self, record: JobRecord, account: AccountRecord, key: IdempotencyRecord | None = None) -> JobRecord:
        """Write the job, hold its price, confirm the hold with its reserve entry (the job is then runnable); the
        request's Idempotency-Key is reserved with the job. 402/429/401 when the account will not hold it (then
        nothing is left: the job and key are deleted), KeyTaken when the key is another request's."""
        price = self.price(record)
        record.reserved_micros = price
        record.price_version = self.prices.version
        record.markup_percent = self.prices.markup_percent
        record.usage = _job_usage(0, 0)
        record.hold_pending = price
        record.hold_on_account = True
        record.idempotency_key_hash = key.key_hash if key is not None else None
        self.jobs.create(record, key=key)
        if self.end_users is not None:
            try:
                self.end_users.hold(record, price, now=now_ms() // 1000)
            except RetouchError:  # refused: it gave back what it had held itself
                self.jobs.discard_unheld(record)
                raise
            except Exception:
                # Failed (not refused) part-way: the end user's hold, or a token hold whose answer was lost, may be
                # taken. Once the job is deleted nothing would end them, so they go back now (idempotent).
                self.jobs.discard_unheld(record)
                self._settle_end_user(record, images=0, cost=0)
                raise
        try:
            moved = self.ledger.hold(record.account_id, record.job_id, price)
        except HoldRefused as refused:
            self.jobs.discard_unheld(record)
            self._settle_end_user(record, images=0, cost=0)
            check_can_reserve(refused.current, price)  # says which limit refused it
            raise JobConflict(f"Job {record.job_id} could not be held; retry the request.") from refused
        if not self._confirm_hold(record, moved):
            current = self.jobs.get(record.job_id)
            if current is None or current.hold_pending is not None:
                # The sweeper took the job for abandoned (it waited past its grace) and deleted it: give the hold
                # back (once: the sweeper gives back a hold it finds after deleting), refuse.
                self.ledger.release(record.account_id, record.job_id, price)
                self._settle_end_user(record, images=0, cost=0)
                raise JobConflict(f"Job {record.job_id} could not be created; retry the request.")
            # The sweeper confirmed it first (this submit was slower than its grace): it is accepted.
        record.hold_pending = None
        logger.info("credit reserved", extra={"job_id": record.job_id, "account_id": record.account_id,
                                              "reserved_micros": price, "tries": moved.tries})
        return record

    def _confirm_hold(self, job: JobRecord, moved: Movement) -> bool:
        price = job.reserved_micros or 0
        return self.ledger.confirm_hold(LedgerEntry(
            entry_id=f"{job.job_id}.reserve", account_id=job.account_id, job_id=job.job_id, kind="reserve",
            end_user=job.end_user,
            amount_micros=-price, balance_after_micros=moved.balance_after_micros, at_ms=now_ms()))

    def complete_hold(self, job: JobRecord) -> bool:
        """A job whose submit was interrupted between its steps (the submit's own error path, or the sweeper past
        its grace): runnable (True) when its hold was taken, else deleted with its Idempotency-Key (False). Safe
        beside a late submit: every step is conditional, and the submit re-reads the job when its confirm fails."""
        if self.ledger.is_held(job.account_id, job.job_id):
            self._confirm_hold(job, Movement(applied=False, balance_after_micros=None))
            return True
        if self.jobs.discard_unheld(job) and self.ledger.is_held(job.account_id, job.job_id):
            # The submit took its hold after all, between our read and the delete: give it back.
            self.ledger.release(job.account_id, job.job_id, job.hold_pending or 0)
        self._settle_end_user(job, images=0, cost=0)  # a hold its end user gave (if any) goes back too
        return False

    def release_if_orphaned(self, account_id: str, job_id: str, micros: int) -> bool:
        """Give back the account's hold for `job_id` if the job does not exist (its hold landed after the job was
        discarded: jobs/late_holds.py). No entry was written for such a hold, so none is for its release. True
        when it was given back now."""
        if self.jobs.get(job_id) is not None or not self.ledger.is_held(account_id, job_id):
            return False
        return self.ledger.release(account_id, job_id, micros).applied

    # ---- end of a job ---------------------------------------------------------------------------------------

    def charge_for(self, job: JobRecord, outcome: JobOutcome) -> tuple[int, Charge | None]:
        """(images produced, the charge): the outputs as produced plus the inputs as the upstream reported them, at
        least its reported cost, capped at the hold (billing/pricing_rule.py)."""
        if outcome.status != "succeeded":
            return 0, None
        charge = settled_charge(
            self.prices, job, quality=outcome.result.get("quality") or job.request.get("quality"),
            sizes=[(o.width, o.height) for o in outcome.outputs], usage=outcome.usage,
            reported_cost_micros=outcome.upstream_cost_micros if outcome.upstream_cost_reported else None)
        if charge.capped:
            logger.warning("priced above the hold; charging the hold",
                           extra={"job_id": job.job_id, "reserved_micros": job.reserved_micros})
        return len(outcome.outputs), charge

    def finish(self, job: JobRecord, *, token: str, outcome: JobOutcome) -> bool:
        """The claimed job's terminal transition with its settlement. False when another delivery owns or
        already ended the job (then nothing at all was written)."""
        images, charge = self.charge_for(job, outcome)
        cost = charge.total_micros if charge is not None else 0
        billed = outcome.with_usage(_job_usage(images, cost, outcome.usage, charge))
        return self._settle(job, Finish(job.job_id, token, billed), outcome=outcome.status, images=images, cost=cost)

    def release_unfinished(self, job_id: str, *, error: JobError, now: int,
                           job: JobRecord | None = None) -> bool:
        """queued|running -> failed with a full release (dead-lettered message, enqueue failure, stranded)."""
        job = job or self.jobs.get(job_id)
        if job is None or job.is_terminal:
            return False
        return self._settle(job, FailUnfinished(job_id, error, now), outcome="failed", images=0, cost=0)

    def cancel(self, job: JobRecord, *, now: int, key: IdempotencyRecord | None = None) -> bool:
        """queued -> canceled with its whole hold released (and the request's Idempotency-Key reserved with the
        transition). False when the job is no longer queued (a worker claimed it first, or it ended)."""
        return self._settle(job, Cancel(job.job_id, now), outcome="canceled", images=0, cost=0, key=key)

    def _settle(self, job: JobRecord, transition: JobEnd, *, outcome: str, images: int, cost: int,
                key: IdempotencyRecord | None = None) -> bool:
        released = (job.reserved_micros or 0) - cost
        if not self.jobs.end(transition, release_micros=released, key=key):
            logger.info("settlement skipped: job ended elsewhere", extra={"job_id": job.job_id})
            return False
        moved = self._release(job, released, outcome=outcome, images=images, cost=cost)
        cost_charged(cost)
        if cost > 0 and moved.balance_after_micros is not None:
            self.watch(job.account_id, moved.balance_after_micros)
        logger.info("job settled", extra={"job_id": job.job_id, "account_id": job.account_id, "outcome": outcome,
                                          "charged_micros": cost, "released_micros": released,
                                          "tries": moved.tries})
        return True

    def _release(self, job: JobRecord, released: int, *, outcome: str, images: int, cost: int) -> Movement:
        def entry(balance_after: int | None) -> LedgerEntry:
            return LedgerEntry(entry_id=f"{job.job_id}.settle", account_id=job.account_id, job_id=job.job_id,
                               end_user=job.end_user,
                               kind="settle", amount_micros=released, balance_after_micros=balance_after,
                               at_ms=now_ms(), charged_micros=cost, released_micros=released, outcome=outcome,
                               images=images)

        self._settle_end_user(job, images=images, cost=cost)
        if not job.hold_on_account:  # reserved before holds existed: the old way, once, with its entry
            return self.ledger.release_unmapped(entry(None))
        moved = self.ledger.release(job.account_id, job.job_id, released)
        self.ledger.confirm_release(entry(moved.balance_after_micros))
        return moved

    def _settle_end_user(self, job: JobRecord, *, images: int, cost: int) -> None:
        """End the job's hold on its end user (and device token); idempotent, so it runs before the account's
        release and again if the sweeper finishes that release."""
        if self.end_users is not None:
            self.end_users.settle(job, images=images, micros=cost)

    def complete_release(self, job: JobRecord) -> None:
        """An ended job whose release its writer did not finish (found by the sweeper): move and confirm it."""
        released = job.release_pending or 0
        cost = (job.reserved_micros or 0) - released
        images = int((job.usage or {}).get("images", 0) or 0)
        self._release(job, released, outcome=job.status, images=images, cost=cost)
        logger.warning("settlement completed after an interruption", extra={"job_id": job.job_id})


def add_credit(ledger: Ledger, account_id: str, amount: int, note: str) -> LedgerEntry:
    """An operator's credit (or, with a negative amount, a correction that cannot take the balance below 0)."""
    if amount == 0:
        raise ValueError("the amount must not be zero")
    entry = LedgerEntry(entry_id=f"credit_{uuid.uuid4().hex}", account_id=account_id, kind="credit",
                        amount_micros=amount, at_ms=now_ms(), note=note)
    try:
        ledger.credit(entry)
    except CreditRefused as refused:
        if refused.current is None:
            raise LookupError(f"no account {account_id}") from refused
        raise ValueError(f"the balance is {format_usd(refused.current.balance_micros)}; it cannot go below zero"
                         ) from refused
    return entry
