"""Issue #24 (3): the breaker counts only the upstream's health, never mostly one account's jobs, and a probe whose
worker died frees the half-open slot after a short lease."""

from __future__ import annotations

from collections.abc import Callable

from retouch.jobs.process import WorkerDeps, run_job
from retouch.providers.base import ProviderResult, ProviderUnavailable
from retouch.routing.breaker import PROBE_LEASE_MARGIN_SECONDS, CircuitBreaker
from retouch.routing.document import BreakerPolicy
from tests.builders import new_account_id, queued_job
from tests.fakes import FakeJobRepository, rendered
from tests.fakes.routing import FakeBreakerStore, FakeClock, ScriptedUpstream

Build = Callable[..., WorkerDeps]


def server_error() -> ProviderUnavailable:
    return ProviderUnavailable("provider_error", "flaky answered HTTP 503")


def served_by(jobs: FakeJobRepository, job_id: str) -> str | None:
    record = jobs.get(job_id)
    assert record is not None
    return record.upstream


def test_one_accounts_failing_jobs_do_not_open_the_breaker_for_another_accounts_jobs(
        jobs: FakeJobRepository, worker: Build) -> None:
    # Given one account whose jobs all make `flaky` answer 5xx (each then served by `steady`)
    noisy = new_account_id()
    flaky = ScriptedUpstream("flaky", [server_error()] * 6 + [rendered()])
    deps = worker(flaky, ScriptedUpstream("steady", [rendered()] * 7))
    for _ in range(6):
        assert run_job(queued_job(jobs, account_id=noisy).job_id, deps) == "succeeded"
    # When another account's job runs
    other = queued_job(jobs)
    assert run_job(other.job_id, deps) == "succeeded"
    # Then it was sent to `flaky` (not skipped as circuit_open), which served it
    assert served_by(jobs, other.job_id) == "flaky"


def test_server_errors_from_two_accounts_open_it(jobs: FakeJobRepository, worker: Build) -> None:
    # Given `flaky` answering 5xx to two accounts' jobs
    flaky = ScriptedUpstream("flaky", [server_error()] * 3 + [rendered()])
    deps = worker(flaky, ScriptedUpstream("steady", [rendered()] * 4))
    first, second = new_account_id(), new_account_id()
    for account in (first, second, first):
        assert run_job(queued_job(jobs, account_id=account).job_id, deps) == "succeeded"
    # When a third account's job runs, flaky's circuit is open: it is skipped
    skipped = queued_job(jobs)
    assert run_job(skipped.job_id, deps) == "succeeded"
    record = jobs.get(skipped.job_id)
    assert record is not None and record.upstream == "steady"
    first_attempt = record.upstream_attempts[0]
    assert (first_attempt.upstream, first_attempt.code) == ("flaky", "circuit_open")


def test_rate_limits_and_failed_upstream_jobs_do_not_trip_it(jobs: FakeJobRepository, worker: Build,
                                                             breakers: FakeBreakerStore) -> None:
    # Given `flaky` answering many accounts' jobs with 429s and with jobs it reports failed
    answers: list[ProviderResult | int | Exception] = [
        ProviderUnavailable("provider_rate_limited", "flaky answered HTTP 429", 1.0),
        ProviderUnavailable("provider_job_failed", "flaky job failed: out of memory")] * 3
    flaky = ScriptedUpstream("flaky", [*answers, rendered()])
    deps = worker(flaky, ScriptedUpstream("steady", [rendered()] * 6))
    for _ in range(6):
        assert run_job(queued_job(jobs).job_id, deps) == "succeeded"
    # Then its circuit is closed and the next job goes to it
    assert breakers.items["flaky"].state == "closed" and breakers.items["flaky"].failures == 0
    nxt = queued_job(jobs)
    assert run_job(nxt.job_id, deps) == "succeeded"
    assert served_by(jobs, nxt.job_id) == "flaky"


def test_a_probe_that_never_reports_back_frees_the_slot_after_its_lease(breakers: FakeBreakerStore,
                                                                       clock: FakeClock) -> None:
    # Given the production policy (probe_timeout_seconds 900) and upstream requests timing out after 60 s
    policy = BreakerPolicy(min_calls=2, cool_down_seconds=60)
    b = CircuitBreaker(breakers, policy, clock, call_timeout_seconds=60)
    b.record("up", b.admit("up"), ok=False, account="acct-a")
    b.record("up", b.admit("up"), ok=False, account="acct-b")
    clock.advance(policy.cool_down_seconds)
    assert b.admit("up") == "probe"  # and its worker is killed: it never records
    # When less than the lease has passed another worker still skips; once it has, it probes
    lease = 60 + PROBE_LEASE_MARGIN_SECONDS
    clock.advance(lease - 1)
    assert b.admit("up") == "skip"
    clock.advance(1)
    assert b.admit("up") == "probe"
    assert lease < policy.probe_timeout_seconds
