"""Reconciliation rules over fakes, and the shape of API keys."""

from __future__ import annotations

from retouch.auth.keys import KEY_PREFIX, generate_api_key, hash_api_key, visible_prefix
from retouch.billing.reconcile import check_account, reconcile
from retouch.models.account_records import LedgerEntry
from tests.fakes import FakeAccountJobs, FakeLedgerReader, account, job

ACCOUNT = "acct_unit000000000000000"
JOB = "job_" + "u" * 24


def entry(entry_id: str, kind: str, amount: int, after: int, at: int, job_id: str | None = None,
          charged: int | None = None) -> LedgerEntry:
    return LedgerEntry(entry_id=entry_id, account_id=ACCOUNT, job_id=job_id, kind=kind, amount_micros=amount,
                       balance_after_micros=after, at_ms=at, charged_micros=charged)


def books() -> tuple[list[LedgerEntry], list]:
    """$1 credited; one job held $0.012, produced 1 of 2 images ($0.006); one queued job holding $0.006."""
    entries = [entry("credit_1", "credit", 1_000_000, 1_000_000, 1),
               entry(f"{JOB}.reserve", "reserve", -12_000, 988_000, 2, JOB),
               entry("job_q.reserve", "reserve", -6_000, 982_000, 3, "job_" + "q" * 24),
               entry(f"{JOB}.settle", "settle", 6_000, 988_000, 4, JOB, charged=6_000)]
    jobs = [job(job_id=JOB, status="succeeded", reserved_micros=12_000, usage={"images": 1, "cost_micros": 6_000},
                hold_on_account=True),
            job(job_id="job_" + "q" * 24, reserved_micros=6_000, hold_on_account=True)]
    return entries, jobs


QUEUED = "job_" + "q" * 24
HOLDS = {QUEUED: 6_000}  # the queued job's open hold


def test_books_that_add_up_pass() -> None:
    # Given an account whose balance, holds and in-flight match its ledger and jobs, when checked, then no difference
    entries, jobs = books()
    assert check_account(FakeLedgerReader(account(988_000, in_flight=1, holds=HOLDS), entries),
                         FakeAccountJobs(jobs), ACCOUNT) == []


def test_a_balance_that_is_not_the_sum_of_the_ledger_is_a_difference() -> None:
    # Given the same books with the balance one micro-dollar off, when reconciled, then it is reported
    entries, jobs = books()
    checked, differences = reconcile(FakeLedgerReader(account(988_001, in_flight=1), entries),
                                     FakeAccountJobs(jobs), rechecks=1, sleep=lambda _s: None)
    assert checked == 1 and {d.check for d in differences} >= {"balance"}


def test_a_wrong_in_flight_count_is_a_difference() -> None:
    entries, jobs = books()
    differences = check_account(FakeLedgerReader(account(988_000, in_flight=0, holds=HOLDS), entries),
                                FakeAccountJobs(jobs), ACCOUNT)
    assert [d.check for d in differences] == ["in_flight"]


def test_a_hold_without_its_job_or_an_ended_job_still_holding_is_a_difference() -> None:
    # Given the account holds for a job it does not have, and still holds for the job that ended
    entries, jobs = books()
    holds = {**HOLDS, "job_orphan": 1_000, JOB: 12_000}
    differences = check_account(FakeLedgerReader(account(988_000, in_flight=3, holds=holds), entries),
                                FakeAccountJobs(jobs), ACCOUNT)

    # Then both are reported
    assert sorted(d.detail.split(" ")[0] for d in differences if d.check == "hold") == [JOB, "the"]
    assert any("job_orphan" in d.detail for d in differences)


def test_a_queued_job_the_account_does_not_hold_for_is_a_difference() -> None:
    entries, jobs = books()
    differences = check_account(FakeLedgerReader(account(988_000, in_flight=0), entries), FakeAccountJobs(jobs),
                                ACCOUNT)
    assert [d.check for d in differences] == ["hold"] and QUEUED in differences[0].detail


def test_a_job_in_flight_from_before_holds_counts_in_flight_without_a_hold() -> None:
    # Given the queued job was reserved before holds existed (the deploy that brought them found it in flight)
    entries, jobs = books()
    jobs[1] = jobs[1].model_copy(update={"hold_on_account": False})

    # Then in_flight counts it although the account holds nothing for it
    assert check_account(FakeLedgerReader(account(988_000, in_flight=1), entries), FakeAccountJobs(jobs),
                         ACCOUNT) == []


def test_a_move_left_half_way_is_reported_as_pending() -> None:
    # Given the succeeded job's release still pending (its worker died between its steps)
    entries, jobs = books()
    jobs[0] = jobs[0].model_copy(update={"release_pending": 6_000})
    differences = check_account(FakeLedgerReader(account(988_000, in_flight=1, holds=HOLDS), entries),
                                FakeAccountJobs(jobs), ACCOUNT)
    assert [d.check for d in differences] == ["pending"]


def test_a_job_settled_twice_or_a_charge_that_is_not_the_jobs_cost_is_a_difference() -> None:
    # Given a second settle entry for the same job (amount 0 keeps the sum equal to the balance)
    entries, jobs = books()
    twice = [*entries, entry(f"{JOB}.settle2", "settle", 0, 988_000, 5, JOB, charged=0)]

    # Then it is reported even though the balance adds up
    differences = check_account(FakeLedgerReader(account(988_000, in_flight=1, holds=HOLDS), twice),
                                FakeAccountJobs(jobs), ACCOUNT)
    assert any(d.check == "job" and JOB in d.detail for d in differences)


def test_keys_are_rt_live_with_32_or_more_url_safe_characters_stored_as_a_hash_and_prefix() -> None:
    # Given a new key
    raw = generate_api_key()

    # Then it has the prefix and enough randomness; what is stored reveals neither the key nor more than a prefix
    assert raw.startswith(KEY_PREFIX) and len(raw) - len(KEY_PREFIX) >= 32
    assert set(raw[len(KEY_PREFIX):]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert len(hash_api_key(raw)) == 64 and raw not in hash_api_key(raw)
    assert visible_prefix(raw) == raw[:12] and generate_api_key() != raw


def test_a_hold_whose_job_does_not_exist_is_given_back_once() -> None:
    # Given an account holding $0.006 for the queued job and $0.001 for a job that does not exist
    from retouch.billing.reconcile import release_orphan_holds
    from tests.fakes import FakeLedger

    _, jobs = books()
    ledger = FakeLedger(account(988_000, in_flight=2, holds={**HOLDS, "job_orphan": 1_000}))

    # When the orphan holds are released, twice
    first = release_orphan_holds(ledger, FakeAccountJobs(jobs), ACCOUNT)
    second = release_orphan_holds(ledger, FakeAccountJobs(jobs), ACCOUNT)

    # Then only the orphan came back, once; the queued job keeps its hold
    assert (first, second) == ({"job_orphan": 1_000}, {})
    assert ledger.state is not None and ledger.state.holds == HOLDS
    assert (ledger.state.balance_micros, ledger.state.in_flight) == (989_000, 1)
