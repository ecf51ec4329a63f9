"""The circuit breaker's policy on the fake store: closed -> open on the failure rate, skipped while open, one probe
when the cool-down is over (half-open), closed again by its success or reopened by its failure."""

from __future__ import annotations

from collections.abc import Callable

from retouch.jobs.process import WorkerDeps, run_job
from retouch.providers.base import ProviderUnavailable
from retouch.routing.breaker import CircuitBreaker
from tests.builders import queued_job
from tests.fakes import FakeJobRepository, rendered
from tests.fakes.routing import FakeBreakerStore, FakeClock, ScriptedUpstream
from tests.unit.routing.conftest import POLICY

Build = Callable[..., WorkerDeps]


def breaker(store: FakeBreakerStore, clock: FakeClock) -> CircuitBreaker:
    return CircuitBreaker(store, POLICY, clock)


ACCOUNTS = ("acct-a", "acct-b")


def fail(b: CircuitBreaker, upstream: str, times: int, accounts: tuple[str, ...] = ACCOUNTS) -> None:
    """`times` failed calls, made in turn for `accounts` (an outage fails every account's calls)."""
    for index in range(times):
        b.record(upstream, b.admit(upstream), ok=False, account=accounts[index % len(accounts)])


def test_it_opens_when_the_failure_rate_passes_the_threshold_with_enough_calls(breakers: FakeBreakerStore,
                                                                               clock: FakeClock) -> None:
    b = breaker(breakers, clock)
    # Given one success and one failure: under min_calls (3), so still closed
    b.record("up", b.admit("up"), ok=True, account="acct-a")
    fail(b, "up", 1, accounts=("acct-a",))
    assert b.admit("up") == "call"
    # When a second failure, another account's, makes 2 of 3 calls failed (>= 50 %)
    fail(b, "up", 1, accounts=("acct-b",))
    # Then calls are skipped
    assert b.admit("up") == "skip"


def test_failures_in_an_old_window_do_not_count(breakers: FakeBreakerStore, clock: FakeClock) -> None:
    b = breaker(breakers, clock)
    fail(b, "up", 2)
    clock.advance(POLICY.window_seconds + 1)
    fail(b, "up", 1)  # a new window: 1 call, under min_calls
    assert b.admit("up") == "call"


def test_after_the_cool_down_one_probe_goes_through_and_its_success_closes_it(breakers: FakeBreakerStore,
                                                                            clock: FakeClock) -> None:
    b = breaker(breakers, clock)
    fail(b, "up", 3)
    assert b.admit("up") == "skip"
    # When the cool-down is over, the first worker to ask probes; others keep skipping meanwhile
    clock.advance(POLICY.cool_down_seconds)
    assert b.admit("up") == "probe"
    assert b.admit("up") == "skip"
    # Then the probe's success closes it, with a fresh window
    b.record("up", "probe", ok=True, account="acct-a")
    assert b.admit("up") == "call"
    assert breakers.items["up"].state == "closed" and breakers.items["up"].calls == 0


def test_a_failed_probe_opens_it_for_another_cool_down(breakers: FakeBreakerStore, clock: FakeClock) -> None:
    b = breaker(breakers, clock)
    fail(b, "up", 3)
    clock.advance(POLICY.cool_down_seconds)
    assert b.admit("up") == "probe"
    b.record("up", "probe", ok=False, account="acct-a")
    assert b.admit("up") == "skip"
    clock.advance(POLICY.cool_down_seconds)
    assert b.admit("up") == "probe"


def test_a_probe_whose_worker_died_is_taken_over_after_its_timeout(breakers: FakeBreakerStore,
                                                                   clock: FakeClock) -> None:
    b = breaker(breakers, clock)
    fail(b, "up", 3)
    clock.advance(POLICY.cool_down_seconds)
    assert b.admit("up") == "probe"  # and its worker never reports
    clock.advance(POLICY.probe_timeout_seconds)
    assert b.admit("up") == "probe"


def test_jobs_skip_an_open_upstream_and_return_to_it_once_it_answers_a_probe(
        jobs: FakeJobRepository, worker: Build, clock: FakeClock) -> None:
    # Given `flaky` failing three jobs in a row (each served by `steady`), which opens its circuit
    flaky = ScriptedUpstream("flaky", [ProviderUnavailable("provider_error", "HTTP 503")] * 3 + [rendered()] * 2)
    steady = ScriptedUpstream("steady", [rendered()] * 4)
    deps = worker(flaky, steady)
    for _ in range(3):
        assert run_job(queued_job(jobs).job_id, deps) == "succeeded"
    # When the next job runs while the circuit is open
    skipped = queued_job(jobs)
    assert run_job(skipped.job_id, deps) == "succeeded"
    # Then flaky was not called: the attempt says so, and steady served it
    record = jobs.get(skipped.job_id)
    assert record is not None and record.upstream == "steady"
    assert [(a.upstream, a.outcome, a.code) for a in record.upstream_attempts] == [
        ("flaky", "skipped", "circuit_open"), ("steady", "succeeded", None)]
    assert flaky.calls.count("submit") == 3
    # And after the cool-down the next job probes flaky, which serves it and closes the circuit for the one after
    clock.advance(POLICY.cool_down_seconds)
    for _ in range(2):
        probe = queued_job(jobs)
        assert run_job(probe.job_id, deps) == "succeeded"
        served = jobs.get(probe.job_id)
        assert served is not None and served.upstream == "flaky"


def test_an_upstream_with_its_own_policy_trips_by_it_and_the_others_by_the_documents(breakers: FakeBreakerStore,
                                                                                     clock: FakeClock) -> None:
    from retouch.routing.document import BreakerPolicy, RoutingDocument

    # Given a document whose policy tolerates many failures, and one entry (`flaky`) with a quick trip of its own
    document = RoutingDocument.model_validate({
        "breaker": {"min_calls": 100},
        "models": {"gpt-image-2": [{"name": "flaky", "kind": "openai", "breaker": {"min_calls": 2}},
                                   {"name": "steady", "kind": "openai"}],
                   "gpt-image-1.5": [{"name": "steady", "kind": "openai"}],
                   "gpt-image-1-mini": [{"name": "steady", "kind": "openai"}]}})
    assert document.breaker_overrides() == {"flaky": BreakerPolicy(min_calls=2)}
    b = CircuitBreaker(breakers, document.breaker, clock, overrides=document.breaker_overrides())
    # When both fail twice
    fail(b, "flaky", 2)
    fail(b, "steady", 2)
    # Then only `flaky` is open; `steady` has not made the document's 100 calls
    assert b.admit("flaky") == "skip"
    assert b.admit("steady") == "call"


def test_a_probe_that_fails_unexpectedly_hands_its_slot_back_at_once(
        jobs: FakeJobRepository, worker: Build, breakers: FakeBreakerStore, clock: FakeClock) -> None:
    import pytest

    from retouch.retry import RedeliverLater

    # Given `flaky`'s circuit open and past its cool-down, so the next job probes it
    b = breaker(breakers, clock)
    fail(b, "flaky", POLICY.min_calls)
    clock.advance(POLICY.cool_down_seconds)
    # When the probe's call fails with an error no adapter classified (a bug, not an outage)
    flaky = ScriptedUpstream("flaky", [RuntimeError("adapter bug")], clock=clock)
    with pytest.raises(RedeliverLater):  # retried a bounded number of times, like any unclassified failure
        run_job(queued_job(jobs).job_id, worker(flaky))
    # Then it neither reopened the circuit for a cool-down nor held the probe slot: the next call probes at once
    state = breakers.items["flaky"]
    assert state.state == "open" and state.probe_until is None and state.open_until is not None
    assert state.open_until <= int(clock())
    assert b.admit("flaky") == "probe"


def test_a_closed_breaker_is_read_once_per_cache_period_in_an_environment(breakers: FakeBreakerStore,
                                                                         clock: FakeClock) -> None:
    b = breaker(breakers, clock)
    # Given an environment that admitted and counted calls for a second
    for _ in range(4):
        b.record("up", b.admit("up"), ok=True, account="acct-a")
        clock.advance(0.25)
    # Then it read the breaker once, not once per call
    assert breakers.reads == 1
    # And reads it again once its copy is older than cache_seconds
    clock.advance(b.cache_seconds)
    assert b.admit("up") == "call" and breakers.reads == 2


def test_a_breaker_another_environment_tripped_is_honoured_within_the_cache_period(breakers: FakeBreakerStore,
                                                                                  clock: FakeClock) -> None:
    # Given two environments sharing the table, the first having read the breaker closed
    here, elsewhere = breaker(breakers, clock), breaker(breakers, clock)
    assert here.admit("up") == "call"
    # When the other environment's failures trip it
    fail(elsewhere, "up", 3)
    assert elsewhere.admit("up") == "skip"
    # Then this one skips the upstream once its cached read is older than cache_seconds
    clock.advance(here.cache_seconds)
    assert here.admit("up") == "skip"


def test_a_failure_past_the_threshold_drops_the_cached_state(breakers: FakeBreakerStore, clock: FakeClock) -> None:
    # Given an environment holding a fresh "closed" read while another trips the breaker
    here, elsewhere = breaker(breakers, clock), breaker(breakers, clock)
    assert here.admit("up") == "call"
    fail(elsewhere, "up", 3)
    # When this environment's own call fails too (its count is past the threshold; the trip is the other's)
    here.record("up", "call", ok=False, account="acct-a")
    # Then its next admit reads the table and skips, without waiting out its cache
    assert here.admit("up") == "skip"


def test_the_environment_that_trips_it_skips_without_reading_until_the_cool_down_ends(
        breakers: FakeBreakerStore, clock: FakeClock) -> None:
    b = breaker(breakers, clock)
    fail(b, "up", 3)
    reads = breakers.reads
    # While open, every admit skips from the cache
    for _ in range(5):
        assert b.admit("up") == "skip"
        clock.advance(1)
    assert breakers.reads == reads
    # Once the cool-down is over the breaker is read (half-open is never cached) and probed
    clock.advance(POLICY.cool_down_seconds)
    assert b.admit("up") == "probe" and breakers.reads == reads + 1
