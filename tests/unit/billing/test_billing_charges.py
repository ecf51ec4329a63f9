"""Hold and settle over fakes: refusals, idempotent moves, exactly-once settlement, moves finished after a crash."""

from __future__ import annotations

import pytest

from retouch.billing.charges import JobBilling, add_credit, check_can_reserve
from retouch.billing.prices import price_table
from retouch.errors import ConcurrencyLimited, InsufficientCredits, Unauthenticated
from retouch.models.account_records import LedgerEntry
from retouch.models.idempotency import IdempotencyRecord
from retouch.models.outcome import JobOutcome
from retouch.models.records import JobError, StoredOutput
from retouch.models.transitions import Finish
from tests.fakes import FakeJobRepository, FakeLedger, account, job


def billing(ledger: FakeLedger, jobs: FakeJobRepository | None = None) -> JobBilling:
    jobs = jobs if jobs is not None else FakeJobRepository()
    ledger.jobs = jobs
    return JobBilling(ledger=ledger, jobs=jobs, prices=price_table())


def held_job(reserved: int = 6_000, **fields: object) -> tuple[FakeLedger, FakeJobRepository, object]:
    """A job whose hold of `reserved` was taken and confirmed, from an account that had $1."""
    ledger, jobs = FakeLedger(account(1_000_000)), FakeJobRepository()
    record = job(**fields)
    billing(ledger, jobs).reserve(record, account(1_000_000))
    assert ledger.state is not None and ledger.state.holds == {record.job_id: reserved}
    return ledger, jobs, record


def test_not_enough_credit_is_402_naming_the_price_and_the_balance() -> None:
    # Given $0.005 available, when a $0.006 job is checked, then 402 insufficient_credits with both amounts
    with pytest.raises(InsufficientCredits) as refused:
        check_can_reserve(account(5_000), 6_000)
    assert refused.value.status_code == 402 and refused.value.code == "insufficient_credits"
    assert "$0.006000" in refused.value.message and "$0.005000" in refused.value.message


def test_at_the_in_flight_limit_it_is_429_concurrency_with_retry_after() -> None:
    # Given an account with 3 of 3 jobs in flight, when a job is checked, then 429 with Retry-After
    with pytest.raises(ConcurrencyLimited) as refused:
        check_can_reserve(account(in_flight=3, max_in_flight=3), 6_000)
    assert refused.value.status_code == 429 and refused.value.code == "concurrency_limit_exceeded"
    assert int(refused.value.headers["Retry-After"]) > 0


def test_a_suspended_account_cannot_reserve() -> None:
    # Given a suspended account, when a job is checked, then 401
    with pytest.raises(Unauthenticated):
        check_can_reserve(account(status="suspended"), 1)


def test_a_reserve_writes_the_job_holds_its_price_and_confirms_it_with_an_entry() -> None:
    # Given $1, when a $0.006 job is reserved
    ledger, jobs = FakeLedger(account(1_000_000)), FakeJobRepository()
    record = billing(ledger, jobs).reserve(job(), account(1_000_000))

    # Then the account holds it, the entry records the balance the hold left, and the job is runnable
    [entry] = ledger.entries
    assert (entry.kind, entry.amount_micros, entry.balance_after_micros) == ("reserve", -6_000, 994_000)
    assert ledger.state is not None and (ledger.state.balance_micros, ledger.state.in_flight) == (994_000, 1)
    stored = jobs.get(record.job_id)
    assert stored is not None and stored.hold_pending is None and stored.reserved_micros == 6_000
    assert record.hold_pending is None and record.usage == {"images": 0, "cost_micros": 0}


def test_a_refused_hold_leaves_no_job_no_key_and_no_entry() -> None:
    # Given $0.005 and a request with an Idempotency-Key
    ledger, jobs = FakeLedger(account(5_000)), FakeJobRepository()
    record = job()
    key = IdempotencyRecord(account_id=record.account_id, key_hash="h", operation="images.generations",
                            fingerprint="f", job_id=record.job_id, state="processing", created_at=1,
                            in_flight_until=30, expires_at=10**10)

    # When a $0.006 job is reserved, then 402, and nothing of the request is left
    with pytest.raises(InsufficientCredits):
        billing(ledger, jobs).reserve(record, account(1_000_000), key=key)
    assert jobs.items == {} and jobs.keys.records == {} and ledger.entries == []
    assert ledger.state is not None and (ledger.state.balance_micros, ledger.state.holds) == (5_000, {})


def test_holds_admit_exactly_what_the_credit_covers() -> None:
    # Given credit for 10 jobs of $0.006, when 15 are reserved one after another
    ledger, jobs = FakeLedger(account(60_000, max_in_flight=100)), FakeJobRepository()
    accepted = refused = 0
    for index in range(15):
        try:
            billing(ledger, jobs).reserve(job(job_id=f"job_{index:024d}"), account(60_000))
            accepted += 1
        except InsufficientCredits:
            refused += 1

    # Then exactly 10 are held and the balance is 0
    assert (accepted, refused) == (10, 5)
    assert ledger.state is not None and ledger.state.balance_micros == 0 and len(ledger.state.holds) == 10


def test_a_hold_retried_after_its_answer_was_lost_holds_once() -> None:
    # Given a hold that committed but whose answer was lost: the job is pending, the account holds it
    ledger, jobs = FakeLedger(account(1_000_000)), FakeJobRepository()
    record = job(hold_pending=6_000, reserved_micros=6_000)
    jobs.put(record)
    ledger.hold(record.account_id, record.job_id, 6_000)

    # When the hold is tried again, then it is not applied twice
    again = ledger.hold(record.account_id, record.job_id, 6_000)
    assert again.applied is False
    assert ledger.state is not None and (ledger.state.balance_micros, ledger.state.in_flight) == (994_000, 1)


def test_success_charges_the_images_produced_and_releases_the_rest() -> None:
    # Given a running job holding 3 x $0.006
    ledger, jobs, record = held_job(18_000, request={"quality": "low", "size": "1024x1024", "n": 3})
    running = jobs.claim(record.job_id, token="t", now=2, lease_until=100)
    assert running is not None
    outputs = (StoredOutput(key="k", content_type="image/png", bytes=1, width=1024, height=1024),) * 2

    # When it finishes succeeded with 2 images
    ended = billing(ledger, jobs).finish(running, token="t", outcome=JobOutcome(
        status="succeeded", completed_at=3, outputs=outputs, usage={"total_tokens": 7}))

    # Then $0.012 is charged, $0.006 released, the hold gone, and the job off the sweep index
    assert ended
    settle = ledger.entries[-1]
    assert (settle.charged_micros, settle.released_micros, settle.amount_micros) == (12_000, 6_000, 6_000)
    assert settle.balance_after_micros == 988_000
    assert ledger.state is not None and (ledger.state.balance_micros, ledger.state.in_flight) == (988_000, 0)
    assert ledger.state.holds == {}
    item = jobs.items[record.job_id]
    assert "release_pending" not in item and "watch_at" not in item and item["usage"]["cost_micros"] == 12_000


def test_a_second_settlement_of_the_same_job_writes_nothing() -> None:
    # Given a job already ended by another delivery
    ledger, jobs, record = held_job()
    running = jobs.claim(record.job_id, token="t", now=2, lease_until=100)
    assert running is not None
    billing(ledger, jobs).finish(running, token="t", outcome=JobOutcome(status="failed", completed_at=3))
    entries, balance = list(ledger.entries), ledger.state.balance_micros if ledger.state else None

    # When a second delivery tries to finish it, then it is told so and no money moves
    assert billing(ledger, jobs).finish(running, token="t", outcome=JobOutcome(status="failed", completed_at=4)) \
        is False
    assert ledger.entries == entries and ledger.state is not None and ledger.state.balance_micros == balance


def test_an_unfinished_job_is_released_in_full() -> None:
    # Given a queued job holding $0.006 (dead-lettered, or its message could not be sent)
    ledger, jobs, record = held_job()

    # When it is released
    ended = billing(ledger, jobs).release_unfinished(record.job_id, error=JobError(code="x", message="y"), now=5)

    # Then all of it comes back
    assert ended and ledger.state is not None
    assert (ledger.state.balance_micros, ledger.state.in_flight, ledger.state.holds) == (1_000_000, 0, {})


def test_a_job_not_yet_held_cannot_be_failed_or_claimed() -> None:
    # Given a job whose submit wrote it but has not confirmed its hold
    jobs = FakeJobRepository.holding(job(hold_pending=6_000, reserved_micros=6_000))
    ledger = FakeLedger(account(1_000_000), jobs=jobs)
    pending = job().job_id

    # When a worker or the dead-letter path gets to it first, then neither touches it (nothing to give back yet)
    assert jobs.claim(pending, token="t", now=1, lease_until=9) is None
    assert billing(ledger, jobs).release_unfinished(pending, error=JobError(code="x", message="y"), now=5) is False
    assert ledger.entries == [] and ledger.state is not None and ledger.state.balance_micros == 1_000_000


def test_a_release_its_writer_did_not_finish_is_completed_once() -> None:
    # Given a job that ended (failed) but whose worker died before the account got the hold back
    ledger, jobs, record = held_job()
    running = jobs.claim(record.job_id, token="t", now=2, lease_until=100)
    assert running is not None
    assert jobs.end(Finish(record.job_id, "t", JobOutcome(status="failed", completed_at=3)), release_micros=6_000)
    stranded = jobs.get(record.job_id)
    assert stranded is not None and stranded.release_pending == 6_000

    # When the sweeper completes it, twice (two sweepers, or a retry)
    billing(ledger, jobs).complete_release(stranded)
    billing(ledger, jobs).complete_release(stranded)

    # Then the hold comes back once, with one settle entry
    assert ledger.state is not None and (ledger.state.balance_micros, ledger.state.holds) == (1_000_000, {})
    assert [e.kind for e in ledger.entries] == ["reserve", "settle"]
    assert "release_pending" not in jobs.items[record.job_id]


def test_a_submit_that_died_after_its_hold_is_made_runnable_and_one_that_died_before_is_deleted() -> None:
    # Given two jobs left pending by submits that died: one after its hold was taken, one before
    jobs = FakeJobRepository()
    ledger = FakeLedger(account(1_000_000), jobs=jobs)
    after, before = (job(job_id=f"job_{n * 24}", hold_pending=6_000, reserved_micros=6_000) for n in "ab")
    jobs.put(after)
    jobs.put(before)
    ledger.hold(after.account_id, after.job_id, 6_000)

    # When the sweeper completes them
    runnable = billing(ledger, jobs).complete_hold(after)
    discarded = billing(ledger, jobs).complete_hold(before)

    # Then the held one is confirmed with its entry, and the other one is gone, nothing held for it
    assert runnable and not discarded
    assert "hold_pending" not in jobs.items[after.job_id] and before.job_id not in jobs.items
    assert [(e.kind, e.job_id) for e in ledger.entries] == [("reserve", after.job_id)]
    assert ledger.state is not None and ledger.state.holds == {after.job_id: 6_000}


def test_credit_is_a_ledger_entry_and_a_correction_cannot_go_below_zero() -> None:
    # Given an account with $1
    ledger = FakeLedger(account(1_000_000))

    # When $2 is added with a note, then $5 is taken back
    entry = add_credit(ledger, "acct_unit000000000000000", 2_000_000, "top-up")
    with pytest.raises(ValueError):
        add_credit(ledger, "acct_unit000000000000000", -5_000_000, "oops")

    # Then the credit is recorded with its note; the correction is refused
    assert (entry.kind, entry.note, entry.amount_micros) == ("credit", "top-up", 2_000_000)
    assert ledger.state is not None and ledger.state.balance_micros == 3_000_000


def test_a_job_in_flight_from_before_holds_is_released_once_the_old_way() -> None:
    # Given a running job reserved before holds existed: its price is off the balance and counted in flight, but the
    # account's holds do not name it
    jobs = FakeJobRepository()
    ledger = FakeLedger(account(994_000, in_flight=1), jobs=jobs)
    legacy = job(status="running", reserved_micros=6_000, markup_percent=0, claim_token="t", lease_until=10**10)
    jobs.put(legacy)

    # When it fails, and a second delivery's settlement of it is tried again
    ended = billing(ledger, jobs).finish(legacy, token="t", outcome=JobOutcome(status="failed", completed_at=3))
    again = ledger.release_unmapped(ledger.entries[-1])

    # Then the whole price came back, in_flight went down, once, with its settle entry
    assert ended and not again.applied
    assert ledger.state is not None and (ledger.state.balance_micros, ledger.state.in_flight) == (1_000_000, 0)
    assert [e.kind for e in ledger.entries] == ["settle"] and "release_pending" not in jobs.items[legacy.job_id]


def test_a_submit_slower_than_the_sweeper_keeps_the_job_the_sweeper_confirmed() -> None:
    # Given a submit whose hold the sweeper found and confirmed (the submit stalled past the grace) just before the
    # submit's own confirmation
    jobs = FakeJobRepository()

    class SweeperFirst(FakeLedger):
        swept = False

        def confirm_hold(self, entry: LedgerEntry) -> bool:
            if not self.swept:  # the submit's own confirmation: the sweeper gets there first
                self.swept = True
                stored = jobs.get(entry.job_id or "")
                assert stored is not None
                assert JobBilling(ledger=self, jobs=jobs, prices=price_table()).complete_hold(stored)
            return super().confirm_hold(entry)

    ledger = SweeperFirst(account(1_000_000), jobs=jobs)

    # When the submit goes on
    record = JobBilling(ledger=ledger, jobs=jobs, prices=price_table()).reserve(job(), account(1_000_000))

    # Then it is accepted, its hold kept (not given back), with one reserve entry
    assert ledger.state is not None and ledger.state.holds == {record.job_id: 6_000}
    assert [e.kind for e in ledger.entries] == ["reserve"] and jobs.get(record.job_id) is not None
