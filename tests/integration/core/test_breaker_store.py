"""The circuit breaker's store: BreakerRepository on moto and the unit tier's FakeBreakerStore obey the same
conditional rules (one trip, one probe at a time, counts per window), and the breaker works on the real table.

Also the jobs table's routing writes: attempts appended under the claim, waiting on a poll, and the poll claim
that only the message carrying the current `seq` wins, on the fake and on moto.
"""

from __future__ import annotations

from typing import Any

import pytest

from retouch.data.breakers import BreakerRepository
from retouch.data.jobs import JobRepository
from retouch.models.outcome import JobOutcome
from retouch.models.records import JobError, JobRecord, PendingCall, UpstreamAttempt
from retouch.providers.upstream import PollHandle
from retouch.routing.breaker import CircuitBreaker, WindowCount
from retouch.routing.document import BreakerPolicy
from tests.builders import new_account_id, new_job_id
from tests.fakes import FakeJobRepository
from tests.fakes.routing import FakeBreakerStore, FakeClock
from tests.integration.core.aws_stack import Stack, client
from tests.integration.core.job_ends import finish

NOW = 1_800_000_000


@pytest.fixture(params=["fake", "dynamodb"])
def breakers(request: pytest.FixtureRequest) -> Any:
    if request.param == "fake":
        return FakeBreakerStore()
    stack: Stack = request.getfixturevalue("stack")
    return BreakerRepository(stack.table, client("dynamodb"))


@pytest.fixture(params=["fake", "dynamodb"])
def jobs(request: pytest.FixtureRequest) -> Any:
    if request.param == "fake":
        return FakeJobRepository()
    stack: Stack = request.getfixturevalue("stack")
    return JobRepository(stack.table, client("dynamodb"))


def upstream_name() -> str:
    return "up-" + new_job_id()[4:16].lower()


def test_counts_add_up_within_a_window_and_restart_in_a_new_one(breakers: Any) -> None:
    name = upstream_name()
    assert breakers.count(name, failed=True, account="a", now=NOW, window_seconds=60) == WindowCount(1, {"a": 1})
    assert breakers.count(name, failed=False, account="b", now=NOW + 10, window_seconds=60) == WindowCount(2, {"a": 1})
    assert breakers.count(name, failed=True, account="b", now=NOW + 59, window_seconds=60) == WindowCount(
        3, {"a": 1, "b": 1})
    assert breakers.count(name, failed=True, account="a", now=NOW + 59, window_seconds=60) == WindowCount(
        4, {"a": 2, "b": 1})
    assert breakers.count(name, failed=False, account="a", now=NOW + 60, window_seconds=60) == WindowCount(1, {})


def test_only_one_trip_and_one_probe_win(breakers: Any) -> None:
    name = upstream_name()
    breakers.count(name, failed=True, account="a", now=NOW, window_seconds=60)
    # Two workers trip it: one wins
    assert [breakers.trip(name, open_until=NOW + 30), breakers.trip(name, open_until=NOW + 31)] == [True, False]
    state = breakers.read(name)
    assert state.state == "open" and state.open_until == NOW + 30
    # No probe during the cool-down; after it, one worker probes and the next does not until the probe expires
    assert breakers.take_probe(name, now=NOW + 29, probe_until=NOW + 100) is False
    assert breakers.take_probe(name, now=NOW + 30, probe_until=NOW + 100) is True
    assert breakers.take_probe(name, now=NOW + 31, probe_until=NOW + 101) is False
    assert breakers.take_probe(name, now=NOW + 100, probe_until=NOW + 200) is True


def test_a_failed_probe_reopens_and_a_successful_one_closes_with_a_fresh_window(breakers: Any) -> None:
    name = upstream_name()
    breakers.count(name, failed=True, account="a", now=NOW, window_seconds=60)
    breakers.trip(name, open_until=NOW + 30)
    assert breakers.take_probe(name, now=NOW + 30, probe_until=NOW + 90)
    breakers.reopen(name, open_until=NOW + 60)
    state = breakers.read(name)
    assert (state.state, state.open_until, state.probe_until) == ("open", NOW + 60, None)
    assert breakers.take_probe(name, now=NOW + 60, probe_until=NOW + 120)
    breakers.close(name, now=NOW + 61)
    state = breakers.read(name)
    assert (state.state, state.calls, state.failures, state.open_until) == ("closed", 0, 0, None)
    assert breakers.count(name, failed=True, account="a", now=NOW + 62, window_seconds=60) == WindowCount(1, {"a": 1})
    assert breakers.trip(name, open_until=NOW + 100) is True


def test_the_breaker_opens_probes_and_closes_on_the_table(stack: Stack) -> None:
    # Given two workers' breakers sharing the table
    clock = FakeClock(NOW)
    policy = BreakerPolicy(window_seconds=60, min_calls=2, failure_rate_percent=50, cool_down_seconds=30)
    store = BreakerRepository(stack.table, client("dynamodb"))
    one, two = CircuitBreaker(store, policy, clock), CircuitBreaker(store, policy, clock)
    name = upstream_name()
    # When each sees a failure, the second trips the circuit: for itself at once, for the first once the read it
    # cached (breakers are read once per cache_seconds per environment) is older than that
    one.record(name, one.admit(name), ok=False, account="acct-a")
    two.record(name, two.admit(name), ok=False, account="acct-b")
    assert two.admit(name) == "skip"
    clock.advance(one.cache_seconds)
    assert (one.admit(name), two.admit(name)) == ("skip", "skip")
    # Then after the cool-down exactly one of them probes, and its success closes the circuit for both
    clock.advance(30 - one.cache_seconds)
    admissions = [one.admit(name), two.admit(name)]
    assert sorted(admissions) == ["probe", "skip"]
    prober = one if admissions[0] == "probe" else two
    prober.record(name, "probe", ok=True, account="acct-a")
    assert (one.admit(name), two.admit(name)) == ("call", "call")


def test_a_released_probe_slot_is_taken_at_once_and_a_closed_breaker_ignores_a_release(breakers: Any) -> None:
    name = upstream_name()
    breakers.count(name, failed=True, account="a", now=NOW, window_seconds=60)
    breakers.trip(name, open_until=NOW + 30)
    assert breakers.take_probe(name, now=NOW + 30, probe_until=NOW + 300)
    # When the probe tells nothing and hands the slot back, the next worker probes without waiting for the lease
    breakers.release_probe(name)
    assert breakers.take_probe(name, now=NOW + 31, probe_until=NOW + 301) is True
    # And a release after the breaker closed changes nothing
    breakers.close(name, now=NOW + 32)
    breakers.release_probe(name)
    assert breakers.read(name).state == "closed"


def test_an_item_counted_before_the_per_account_map_starts_a_new_window(stack: Stack) -> None:
    # Given a breaker item written by the previous code: a window without `account_failures`
    name = upstream_name()
    dynamodb = client("dynamodb")
    dynamodb.put_item(TableName=stack.table, Item={
        "pk": {"S": f"UPSTREAM#{name}"}, "sk": {"S": "BREAKER"}, "breaker_state": {"S": "closed"},
        "window_start": {"N": str(NOW)}, "calls": {"N": "4"}, "failures": {"N": "4"}})
    # When a failure is counted, the window restarts with the map instead of failing
    store = BreakerRepository(stack.table, dynamodb)
    assert store.count(name, failed=True, account="a", now=NOW + 1, window_seconds=60) == WindowCount(1, {"a": 1})


def test_one_accounts_failures_do_not_open_the_breaker_on_the_table_but_two_accounts_do(stack: Stack) -> None:
    clock = FakeClock(NOW)
    policy = BreakerPolicy(window_seconds=60, min_calls=2, failure_rate_percent=50, cool_down_seconds=30)
    b = CircuitBreaker(BreakerRepository(stack.table, client("dynamodb")), policy, clock, cache_seconds=0)
    name = upstream_name()
    # Given one account's calls all failing (5xx)
    for _ in range(5):
        b.record(name, b.admit(name), ok=False, account="acct-noisy")
    # Then the breaker stays closed for everyone
    assert b.admit(name) == "call"
    # When a second account's call fails too, the failures are no longer one account's: it opens
    b.record(name, b.admit(name), ok=False, account="acct-other")
    b.record(name, b.admit(name), ok=False, account="acct-other")
    b.record(name, b.admit(name), ok=False, account="acct-other")
    assert b.admit(name) == "skip"


def new_job(jobs: Any) -> JobRecord:
    record = JobRecord(job_id=new_job_id(), account_id=new_account_id(), kind="generation", status="queued",
                       model="gpt-image-2", request={"prompt": "p", "n": 1}, created_at=NOW, expires_at=NOW + 60)
    jobs.create(record)
    return record


def test_attempts_append_under_the_claim_and_a_poll_claim_needs_the_current_seq(jobs: Any) -> None:
    job = new_job(jobs)
    assert jobs.claim(job.job_id, token="a", now=NOW, lease_until=NOW + 10) is not None
    skipped = UpstreamAttempt(upstream="p", outcome="skipped", code="circuit_open", at=NOW)
    attempt = UpstreamAttempt(upstream="q", outcome="pending", upstream_job_id="q-1", at=NOW)
    assert jobs.record_attempts(job.job_id, token="a", attempts=[skipped, attempt])
    assert not jobs.record_attempts(job.job_id, token="stranger", attempts=[attempt])
    # When the job waits on its poll
    pending = PendingCall(upstream="q", route_index=0, handle={"upstream_job_id": "q-1"}, seq=1, submitted_at=NOW)
    assert jobs.wait_for_poll(job.job_id, token="a", pending=pending, lease_until=NOW + 200)
    waiting = jobs.get(job.job_id)
    assert (waiting.status, waiting.claim_token, waiting.watch_at) == ("running", None, NOW + 200)
    assert [(a.upstream, a.upstream_job_id) for a in waiting.upstream_attempts] == [("p", None), ("q", "q-1")]
    # Then only poll message 1 claims it, once, without counting an attempt
    assert jobs.claim_poll(job.job_id, token="b", seq=2, lease_until=NOW + 300) is None
    polled = jobs.claim_poll(job.job_id, token="b", seq=1, lease_until=NOW + 300)
    assert polled is not None and polled.claim_token == "b" and polled.attempts == 1
    assert jobs.claim_poll(job.job_id, token="c", seq=1, lease_until=NOW + 300) is None
    # And the pending call is gone once the job ends
    assert finish(jobs, job.job_id, token="b", outcome=JobOutcome(status="succeeded", completed_at=NOW, upstream="q"))
    ended = jobs.get(job.job_id)
    assert ended.pending_call is None and ended.upstream == "q"


def test_a_poll_message_that_lost_its_poll_claim_can_still_claim_its_job_plainly(jobs: Any) -> None:
    """What run_job's fallback relies on (jobs/process.py _claim_stray_poll), on the fake and on DynamoDB."""
    job = new_job(jobs)
    pending = PendingCall(upstream="q", route_index=0, handle={"upstream_job_id": "q-1"}, seq=1, submitted_at=NOW)
    assert jobs.claim(job.job_id, token="a", now=NOW, lease_until=NOW + 10) is not None
    assert jobs.wait_for_poll(job.job_id, token="a", pending=pending, lease_until=NOW + 200)
    # Given poll 1 claimed by a worker that died mid-poll (its claim token stays on the job)
    assert jobs.claim_poll(job.job_id, token="dead", seq=1, lease_until=NOW + 300) is not None
    # Then the returning poll message cannot poll-claim it, nor claim it while the dead worker's lease lasts
    assert jobs.claim_poll(job.job_id, token="b", seq=1, lease_until=NOW + 600) is None
    assert jobs.claim(job.job_id, token="b", now=NOW + 299, lease_until=NOW + 600) is None
    # But it claims it plainly once that lease ran out
    taken = jobs.claim(job.job_id, token="b", now=NOW + 301, lease_until=NOW + 600)
    assert taken is not None and taken.claim_token == "b" and taken.pending_call == pending
    # And after a retry decided during that poll (the job queued again, its pending call dropped) likewise
    assert jobs.release_for_retry(job.job_id, token="b", error=JobError(code="provider_error", message="502"),
                                  retry_at=NOW + 320)
    assert jobs.claim_poll(job.job_id, token="c", seq=1, lease_until=NOW + 700) is None
    again = jobs.claim(job.job_id, token="c", now=NOW + 320, lease_until=NOW + 700)
    assert again is not None and again.status == "running" and again.pending_call is None and again.attempts == 3


def test_a_stored_poll_handle_reads_back_as_the_adapter_made_it(jobs: Any) -> None:
    # Given an Oxen-like handle with no result URL (the table drops None attributes)
    handle = PollHandle(upstream="oxen", upstream_job_id="gen-1", status_url="http://oxen/api/ai/queue/gen-1",
                        result_url=None, submitted_at=NOW, poll_after_seconds=5)
    job = new_job(jobs)
    assert jobs.claim(job.job_id, token="a", now=NOW, lease_until=NOW + 10) is not None
    pending = PendingCall(upstream="oxen", route_index=0, handle=handle.to_json(), seq=1, submitted_at=NOW)
    # When the job waits on its poll and a poll message reads it back
    assert jobs.wait_for_poll(job.job_id, token="a", pending=pending, lease_until=NOW + 200)
    polled = jobs.claim_poll(job.job_id, token="b", seq=1, lease_until=NOW + 300)
    # Then the handle the poll gets is the one the adapter made
    assert polled is not None and polled.pending_call is not None
    assert PollHandle.from_json(polled.pending_call.handle) == handle
    assert finish(jobs, job.job_id, token="b",
                  outcome=JobOutcome(status="succeeded", completed_at=NOW, upstream="oxen"))
