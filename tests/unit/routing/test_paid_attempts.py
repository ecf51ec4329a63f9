"""Bounded paid attempts (routing/paid_attempts.py, #24 finding 5): a call's timeout is sized from the request; a slow
request that times out, or an asynchronous job given up, is not paid for again elsewhere; a job stops after a bounded
number of possibly-paid calls that served nothing; each such call is flagged, counted on the job and in margin."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from retouch.billing.margin import margins
from retouch.jobs.process import WorkerDeps, run_job
from retouch.jobs.view import render_job
from retouch.providers.base import ProviderUnavailable
from retouch.providers.call_timeout import call_timeout, sized_call_timeout
from retouch.retry import RedeliverLater
from retouch.routing.paid_attempts import MAX_UNSERVED_PAID_CALLS, call_timeout_seconds, known_slow
from tests.builders import queued_job
from tests.fakes import FakeJobQueue, FakeJobRepository, FakeObjectStore, rendered
from tests.fakes.routing import FakeClock, ScriptedUpstream

Build = Callable[..., WorkerDeps]
CONFIGURED = 240.0
SLOW = {"model": "gpt-image-2", "prompt": "a poster", "quality": "high", "size": "3840x2160", "n": 1}
QUICK = {"model": "gpt-image-2", "prompt": "a hat", "quality": "low", "size": "1024x1024", "n": 1}


def sized(deps: WorkerDeps) -> WorkerDeps:
    """The worker as wired in production: calls sized within the configured provider timeout."""
    return replace(deps, routing=replace(deps.routing, call_timeout_seconds=CONFIGURED))


def bad_answer() -> ProviderUnavailable:
    return ProviderUnavailable("provider_bad_response", "2xx without images")


def test_a_call_timeout_is_sized_from_the_request_within_the_configured_one(jobs: FakeJobRepository) -> None:
    # Given a quick request and a slow one (high quality, 4K)
    quick, slow = queued_job(jobs, request=QUICK), queued_job(jobs, request=SLOW)

    # Then the quick one gets a shorter timeout and is not known slow; the slow one gets the whole configured timeout
    assert 90 <= call_timeout_seconds(quick, CONFIGURED) < CONFIGURED and not known_slow(quick)
    assert call_timeout_seconds(slow, CONFIGURED) == CONFIGURED and known_slow(slow)
    # and a short configured timeout (a test stack's) shortens every call but makes no request slow
    assert call_timeout_seconds(slow, 5) == 5 and not known_slow(quick)
    # and an upstream's HTTP calls take the sized timeout, never more than their own
    with sized_call_timeout(61):
        assert call_timeout(CONFIGURED) == 61 and call_timeout(30) == 30
    assert call_timeout(CONFIGURED) == CONFIGURED


def test_a_slow_request_that_times_out_is_neither_sent_elsewhere_nor_retried(
        jobs: FakeJobRepository, worker: Build) -> None:
    # Given a 4K high-quality job whose first upstream times out, and a second upstream that would answer
    job = queued_job(jobs, request=SLOW)
    primary = ScriptedUpstream("primary", [ProviderUnavailable("provider_timeout", "no answer in time")])
    secondary = ScriptedUpstream("secondary", [rendered()])

    # When it runs
    outcome = run_job(job.job_id, sized(worker(primary, secondary)))

    # Then it failed provider_timeout, uncharged, the second upstream never called: one possibly-paid call only
    done = jobs.get(job.job_id)
    assert outcome == "failed" and done is not None and done.error is not None
    assert done.error.code == "provider_timeout" and secondary.calls == []
    assert [(a.upstream, a.code, a.possibly_paid) for a in done.upstream_attempts] == [
        ("primary", "provider_timeout", True)]
    assert done.usage is not None and done.usage["cost_micros"] == 0


def test_a_quick_request_that_times_out_still_falls_back(jobs: FakeJobRepository, worker: Build) -> None:
    # Given a quick job whose first upstream times out (an outage, for a request this small)
    job = queued_job(jobs, request=QUICK)
    primary = ScriptedUpstream("primary", [ProviderUnavailable("provider_timeout", "no answer in time")])
    secondary = ScriptedUpstream("secondary", [rendered()])

    # When it runs, then the second upstream serves it
    assert run_job(job.job_id, sized(worker(primary, secondary))) == "succeeded"
    assert secondary.calls == ["submit"]


def test_a_job_stops_after_its_bound_of_unserved_possibly_paid_calls(jobs: FakeJobRepository, worker: Build) -> None:
    # Given three upstreams that answer 2xx with nothing usable (each such answer may be billed)
    job = queued_job(jobs, request=QUICK)
    upstreams = [ScriptedUpstream(name, [bad_answer(), rendered()]) for name in ("first", "second", "third")]

    # When the job runs
    outcome = run_job(job.job_id, sized(worker(*upstreams)))

    # Then after two possibly-paid calls it fails instead of paying a third, uncharged
    done = jobs.get(job.job_id)
    assert MAX_UNSERVED_PAID_CALLS == 2
    assert outcome == "failed" and done is not None and done.error is not None
    assert done.error.code == "paid_attempts_exhausted" and upstreams[2].calls == []
    assert [a.possibly_paid for a in done.upstream_attempts] == [True, True]


def test_the_bound_holds_across_deliveries(jobs: FakeJobRepository, worker: Build) -> None:
    # Given one upstream that timed out on a quick job, and answered unusably on its retry
    job = queued_job(jobs, request=QUICK)
    only = ScriptedUpstream("only", [ProviderUnavailable("provider_timeout", "slow"), bad_answer(), rendered()])
    deps = sized(worker(only))
    with pytest.raises(RedeliverLater):
        run_job(job.job_id, deps)
    with pytest.raises(RedeliverLater):
        run_job(job.job_id, deps)

    # When it is delivered a third time, then it is not called again: the job fails
    assert run_job(job.job_id, deps) == "failed"
    assert only.calls == ["submit", "submit"]


def test_an_asynchronous_job_given_up_is_not_sent_elsewhere(jobs: FakeJobRepository, queue: FakeJobQueue,
                                                             worker: Build, clock: FakeClock) -> None:
    # Given an asynchronous upstream that keeps the job pending past 30 minutes, and a second upstream
    job = queued_job(jobs, request=QUICK)
    slow = ScriptedUpstream("queue", [900, 900, 900], clock=clock)
    other = ScriptedUpstream("other", [rendered()], clock=clock)
    deps = sized(worker(slow, other))

    # When it is submitted and polled until it is given up
    assert run_job(job.job_id, deps) == "waiting"
    outcomes = []
    while queue.polls:
        job_id, seq, delay = queue.polls.pop(0)
        clock.advance(delay)
        outcomes.append(run_job(job_id, deps, poll_seq=seq))

    # Then it fails provider_timeout without a second, paid, submit elsewhere
    done = jobs.get(job.job_id)
    assert outcomes[-1] == "failed" and other.calls == []
    assert done is not None and done.error is not None and done.error.code == "provider_timeout"


def test_possibly_paid_calls_show_on_the_job_and_in_margin(jobs: FakeJobRepository, store: FakeObjectStore,
                                                           worker: Build) -> None:
    # Given a quick job whose first upstream timed out and second served it
    job = queued_job(jobs, request=QUICK)
    primary = ScriptedUpstream("primary", [ProviderUnavailable("provider_timeout", "no answer in time")])
    secondary = ScriptedUpstream("secondary", [rendered()], cost_micros=6_000)
    assert run_job(job.job_id, sized(worker(primary, secondary))) == "succeeded"
    done = jobs.get(job.job_id)
    assert done is not None

    # When the job is read and the margin computed (the routing estimates $0.04 an image at primary)
    view = render_job(done, store, 60)
    rows = {row.upstream: row for row in margins([done], {"primary": 40_000})}

    # Then both calls count as possibly paid on the job, and the timed-out one as an unserved paid call in margin
    assert view.possibly_paid_attempts == 2
    assert [a.possibly_paid for a in view.upstream_attempts] == [True, True]
    assert (rows["primary"].unserved_paid_calls, rows["primary"].unserved_cost_micros) == (1, 40_000)


def test_an_asynchronous_call_that_failed_counts_against_the_bound_before_the_fallback_is_called(
        jobs: FakeJobRepository) -> None:
    from retouch.models.records import PendingCall, UpstreamAttempt
    from retouch.providers.upstream import PollHandle
    from retouch.routing.paid_attempts import unserved_so_far

    # Given a job whose quick upstream timed out (possibly paid), then whose asynchronous upstream took it as job X
    # and X failed: the poll that learnt it still has X as the job's pending call when it walks on to the fallback
    handle = PollHandle(upstream="async", upstream_job_id="X", status_url="https://a.invalid/X", result_url=None,
                        submitted_at=0, poll_after_seconds=5)
    job = queued_job(jobs, pending_call=PendingCall(upstream="async", route_index=1, handle=handle.to_json(), seq=1,
                                                    submitted_at=0))
    job.upstream_attempts = [
        UpstreamAttempt(upstream="quick", outcome="unavailable", code="provider_timeout", at=0),
        UpstreamAttempt(upstream="async", outcome="pending", upstream_job_id="X", at=1),
        UpstreamAttempt(upstream="async", outcome="unavailable", code="provider_failed", upstream_job_id="X", at=2),
    ]

    # Then both count: the asynchronous call is no longer awaited, so the fallback is not a third paid call
    assert unserved_so_far(job) == MAX_UNSERVED_PAID_CALLS == 2
    # while a call still awaited does not count yet
    job.upstream_attempts.pop()
    assert unserved_so_far(job) == 1
