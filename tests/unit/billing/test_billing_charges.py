"""Reserve and settle logic over fakes: refusals, optimistic retries, exactly-once settlement."""

from __future__ import annotations

import pytest

from retouch.billing.charges import JobBilling, add_credit, check_can_reserve
from retouch.billing.prices import price_table
from retouch.data.ledger import JobStateChanged
from retouch.errors import AccountBusy, ConcurrencyLimited, InsufficientCredits, JobConflict, Unauthenticated
from retouch.models.records import JobError
from tests.fakes import FakeJobRepository, FakeLedger, account, job


def billing(ledger: FakeLedger, jobs: FakeJobRepository | None = None, **kwargs: object) -> JobBilling:
    return JobBilling(ledger=ledger, jobs=jobs or FakeJobRepository(), prices=price_table(), sleep=lambda _s: None,
                      **kwargs)


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


def test_a_reserve_that_raced_another_writer_retries_with_the_new_balance() -> None:
    # Given $1 read, but another job takes $0.50 just before our write
    ledger = FakeLedger(account(1_000_000), moves_before=[-500_000])
    record = job()

    # When the job is reserved
    billing(ledger).reserve(record, account(1_000_000))

    # Then it was retried once and its entry's balance_after follows the balance actually there
    assert ledger.writes == 2
    [entry] = ledger.entries
    assert (entry.kind, entry.amount_micros, entry.balance_after_micros) == ("reserve", -6_000, 494_000)
    assert record.reserved_micros == 6_000 and record.usage == {"images": 0, "cost_micros": 0}


def test_a_reserve_that_raced_into_insufficient_credit_is_refused() -> None:
    # Given $0.01 read, but another job takes $0.005 before our write
    ledger = FakeLedger(account(10_000), moves_before=[-5_000])

    # When a $0.006 job is reserved, then the retry sees the new balance and refuses 402
    with pytest.raises(InsufficientCredits):
        billing(ledger).reserve(job(), account(10_000))
    assert ledger.entries == []


def test_endless_contention_is_a_retryable_503_not_a_wrong_balance() -> None:
    # Given an account whose balance moves before every one of our writes
    ledger = FakeLedger(account(1_000_000), moves_before=[1] * 10)

    # When a job is reserved with 5 attempts, then it gives up with 503 account_busy, nothing written
    with pytest.raises(AccountBusy):
        billing(ledger, max_attempts=5).reserve(job(), account(1_000_000))
    assert ledger.entries == []


def test_success_charges_the_images_produced_and_releases_the_rest() -> None:
    # Given a job holding 3 x $0.006 that produced 2 images
    ledger = FakeLedger(account(982_000, in_flight=1))
    held = job(status="running", reserved_micros=18_000, markup_percent=0, request={"quality": "low",
                                                                                    "size": "1024x1024", "n": 3})
    outputs = [{"width": 1024, "height": 1024}] * 2

    # When it finishes succeeded
    ended = billing(ledger).finish(held, token="t", status="succeeded",
                                   fields={"outputs": outputs, "usage": {"total_tokens": 7}})

    # Then $0.012 is charged, $0.006 released, in-flight back to 0
    assert ended
    [settle] = ledger.entries
    assert (settle.charged_micros, settle.released_micros, settle.amount_micros) == (12_000, 6_000, 6_000)
    assert (ledger.state.balance_micros, ledger.state.in_flight) == (988_000, 0)


def test_a_second_settlement_of_the_same_job_writes_nothing() -> None:
    # Given a job already ended by another delivery
    ledger = FakeLedger(account(994_000, in_flight=1))
    ledger.job_ended = True
    held = job(status="running", reserved_micros=6_000, markup_percent=0)

    # When this delivery tries to finish it, then it is told so and no money moves
    assert billing(ledger).finish(held, token="t", status="failed", fields={}) is False
    assert ledger.entries == [] and ledger.state.balance_micros == 994_000


def test_an_unfinished_job_is_released_in_full() -> None:
    # Given a queued job holding $0.053 (dead-lettered, or its message could not be sent)
    held = job(reserved_micros=53_000, markup_percent=0)
    ledger = FakeLedger(account(947_000, in_flight=1))

    # When it is released
    ended = billing(ledger, FakeJobRepository.holding(held)).release_unfinished(
        held.job_id, error=JobError(code="x", message="y"), now=1)

    # Then all of it comes back
    assert ended and ledger.state.balance_micros == 1_000_000 and ledger.state.in_flight == 0


def test_a_job_never_priced_is_not_settled() -> None:
    # Given a job from before billing (no reservation) already terminal, when released, nothing happens
    ledger = FakeLedger(account())
    assert billing(ledger, FakeJobRepository.holding(job(status="failed"))).release_unfinished(
        "job_x", error=JobError(code="x", message="y"), now=1) is False
    assert ledger.entries == []


def test_credit_is_a_ledger_entry_and_a_correction_cannot_go_below_zero() -> None:
    # Given an account with $1
    ledger = FakeLedger(account(1_000_000))

    # When $2 is added with a note, then $5 is taken back
    entry = add_credit(ledger, "acct_unit000000000000000", 2_000_000, "top-up", sleep=lambda _s: None)
    with pytest.raises(ValueError):
        add_credit(ledger, "acct_unit000000000000000", -5_000_000, "oops", sleep=lambda _s: None)

    # Then the credit is recorded with its note and balance after; the correction is refused
    assert (entry.kind, entry.note, entry.balance_after_micros) == ("credit", "top-up", 3_000_000)
    assert ledger.state.balance_micros == 3_000_000


class CommittedButLost(FakeLedger):
    """A reserve that committed on an earlier try: this try finds the job (and its hold) already there."""

    def reserve(self, job_item: dict, entry, *, expected_balance: int, key=None) -> None:
        super().reserve(job_item, entry, expected_balance=expected_balance, key=key)
        raise JobStateChanged()


def test_a_reserve_that_committed_on_an_earlier_try_is_a_success_not_a_second_hold() -> None:
    # Given a reserve whose transaction had already committed (the job exists)
    ledger = CommittedButLost(account(1_000_000))
    record = job()

    # When the job is reserved
    reserved = billing(ledger, FakeJobRepository.holding(record)).reserve(record, account(1_000_000))

    # Then the submit goes on with the job as written: one hold, no error
    assert reserved is record and len(ledger.entries) == 1


def test_a_reserve_whose_job_id_is_taken_by_nothing_of_ours_is_a_409_conflict() -> None:
    # Given a job condition that fails while no such job can be read (an id that is not ours)
    ledger = CommittedButLost(account(1_000_000))

    # When the job is reserved, then it is a 409 the client may retry, not a 500
    with pytest.raises(JobConflict) as conflict:
        billing(ledger, FakeJobRepository()).reserve(job(), account(1_000_000))
    assert conflict.value.status_code == 409 and conflict.value.code == "job_conflict"
