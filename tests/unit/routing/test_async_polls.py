"""Asynchronous upstreams on fakes: the worker submits and returns; delayed messages (poll_seq) poll; the job is
never stranded meanwhile; a failed upstream job falls back; and the worker's billed time stays small."""

from __future__ import annotations

from collections.abc import Callable

from retouch.jobs.process import WorkerDeps, run_job
from retouch.jobs.upstream_calls import MAX_POLL_ERRORS
from retouch.models.common import now_epoch
from retouch.providers.base import ProviderRefused, ProviderUnavailable
from tests.builders import queued_job
from tests.fakes import FakeJobQueue, FakeJobRepository, rendered
from tests.fakes.routing import FakeClock, ScriptedUpstream

Build = Callable[..., WorkerDeps]


def deliver_polls(jobs: FakeJobRepository, queue: FakeJobQueue, deps: WorkerDeps, clock: FakeClock) -> list[str]:
    """Deliver each delayed poll message as SQS would (after its delay), until none is left."""
    outcomes = []
    while queue.polls:
        job_id, seq, delay = queue.polls.pop(0)
        clock.advance(delay)
        outcomes.append(run_job(job_id, deps, poll_seq=seq))
    return outcomes


def test_a_pending_upstream_job_is_polled_by_delayed_messages_until_it_finishes(
        jobs: FakeJobRepository, queue: FakeJobQueue, worker: Build, clock: FakeClock) -> None:
    # Given an asynchronous upstream that answers "pending, 20 s" then "pending, 10 s" then the images
    job = queued_job(jobs)
    upstream = ScriptedUpstream("queue", [20, 10, rendered()], clock=clock, cost_micros=80_000)
    deps = worker(upstream)
    # When the job is delivered, the worker submits and returns at once
    assert run_job(job.job_id, deps) == "waiting"
    waiting = jobs.get(job.job_id)
    assert waiting is not None and waiting.status == "running" and waiting.claim_token is None
    assert waiting.pending_call is not None and waiting.pending_call.seq == 1
    # and the job is watched past its poll (plus a lease), so the sweeper does not take it for stranded
    assert waiting.watch_at is not None and waiting.watch_at >= now_epoch() + 20 + 120
    assert queue.polls == [(job.job_id, 1, 20)]
    # Then the polls finish it, charged as usual, with one attempt recorded per submit and finish
    assert deliver_polls(jobs, queue, deps, clock) == ["waiting", "succeeded"]
    done = jobs.get(job.job_id)
    assert done is not None and done.status == "succeeded" and done.pending_call is None
    assert done.upstream == "queue" and done.upstream_cost_micros == 80_000
    assert [a.outcome for a in done.upstream_attempts] == ["pending", "succeeded"]
    assert upstream.calls == ["submit", "poll", "poll"]
    assert done.attempts == 1  # polls are not attempts


def test_a_duplicate_or_stale_poll_message_is_dropped(jobs: FakeJobRepository, queue: FakeJobQueue, worker: Build,
                                                      clock: FakeClock) -> None:
    job = queued_job(jobs)
    upstream = ScriptedUpstream("queue", [5, 5, rendered()], clock=clock)
    deps = worker(upstream)
    assert run_job(job.job_id, deps) == "waiting"
    assert run_job(job.job_id, deps, poll_seq=1) == "waiting"  # poll 1 -> pending again, seq 2 scheduled
    # When poll message 1 arrives a second time, it claims nothing and calls nothing
    assert run_job(job.job_id, deps, poll_seq=1) == "skipped_poll"
    assert upstream.calls == ["submit", "poll"]


def test_a_failed_upstream_job_falls_back_to_the_next_upstream(jobs: FakeJobRepository, queue: FakeJobQueue,
                                                               worker: Build, clock: FakeClock) -> None:
    job = queued_job(jobs)
    slow = ScriptedUpstream("queue", [30, ProviderUnavailable("provider_job_failed", "queue job failed")],
                            clock=clock)
    sync = ScriptedUpstream("sync", [rendered()], clock=clock)
    deps = worker(slow, sync)
    assert run_job(job.job_id, deps) == "waiting"
    assert deliver_polls(jobs, queue, deps, clock) == ["succeeded"]
    done = jobs.get(job.job_id)
    assert done is not None and done.upstream == "sync"
    assert [(a.upstream, a.outcome) for a in done.upstream_attempts] == [
        ("queue", "pending"), ("queue", "unavailable"), ("sync", "succeeded")]


def test_a_status_check_that_fails_is_polled_again_a_bounded_number_of_times(
        jobs: FakeJobRepository, queue: FakeJobQueue, worker: Build, clock: FakeClock) -> None:
    job = queued_job(jobs)
    hiccup = ProviderUnavailable("provider_error", "status HTTP 502")
    flaky_status = ScriptedUpstream("queue", [10] + [hiccup] * MAX_POLL_ERRORS, clock=clock)
    sync = ScriptedUpstream("sync", [rendered()], clock=clock)
    deps = worker(flaky_status, sync)
    assert run_job(job.job_id, deps) == "waiting"
    assert deliver_polls(jobs, queue, deps, clock) == ["waiting"] * (MAX_POLL_ERRORS - 1) + ["succeeded"]
    done = jobs.get(job.job_id)
    assert done is not None and done.upstream == "sync"


def test_a_refusal_at_poll_time_fails_the_job(jobs: FakeJobRepository, queue: FakeJobQueue, worker: Build,
                                              clock: FakeClock) -> None:
    job = queued_job(jobs)
    upstream = ScriptedUpstream("queue", [10, ProviderRefused("provider_safety_refusal", "nsfw")], clock=clock)
    other = ScriptedUpstream("sync", [rendered()], clock=clock)
    deps = worker(upstream, other)
    assert run_job(job.job_id, deps) == "waiting"
    assert deliver_polls(jobs, queue, deps, clock) == ["failed"]
    assert other.calls == []


def test_a_lost_poll_message_is_recovered_by_a_plain_delivery_after_the_lease(
        jobs: FakeJobRepository, queue: FakeJobQueue, worker: Build, clock: FakeClock) -> None:
    # Given a waiting job whose poll message was lost
    job = queued_job(jobs)
    upstream = ScriptedUpstream("queue", [10, rendered()], clock=clock)
    deps = worker(upstream)
    assert run_job(job.job_id, deps) == "waiting"
    queue.polls.clear()
    # When the sweeper's message arrives after the job's lease (watch_at) passed
    jobs.set(job.job_id, lease_until=now_epoch() - 1)
    # Then a plain delivery polls the pending job rather than submitting it again
    assert run_job(job.job_id, deps) == "succeeded"
    assert upstream.calls == ["submit", "poll"]


def test_the_poll_delay_follows_the_upstreams_eta_up_to_the_configured_cap(
        jobs: FakeJobRepository, queue: FakeJobQueue, worker: Build, clock: FakeClock) -> None:
    from dataclasses import replace

    # Given an upstream that says "pending, 20 s" twice, and a worker that polls at most every 2 s
    job = queued_job(jobs)
    upstream = ScriptedUpstream("queue", [20, 20, rendered()], clock=clock)
    deps = worker(upstream)
    deps = replace(deps, routing=replace(deps.routing, max_poll_delay_seconds=2))
    # When it is submitted and polled, Then each delayed message waits the cap, not the eta
    assert run_job(job.job_id, deps) == "waiting"
    assert queue.polls == [(job.job_id, 1, 2)]
    assert run_job(job.job_id, deps, poll_seq=queue.polls.pop(0)[1]) == "waiting"
    assert queue.polls == [(job.job_id, 2, 2)]
    # And without a cap the eta decides (SQS's 900 s at most)
    assert replace(deps.routing, max_poll_delay_seconds=900).poll_delay(20) == 20
    assert replace(deps.routing, max_poll_delay_seconds=900).poll_delay(5000) == 900


def test_a_retry_decided_while_polling_keeps_the_poll_message_as_the_jobs_message(
        jobs: FakeJobRepository, queue: FakeJobQueue, worker: Build, clock: FakeClock) -> None:
    import pytest

    from retouch.retry import RedeliverLater

    # Given a waiting job whose upstream job then fails, and whose fallback answers 502
    job = queued_job(jobs)
    slow = ScriptedUpstream("queue", [30, ProviderUnavailable("provider_job_failed", "queue job failed"),
                                      ProviderUnavailable("provider_error", "HTTP 502")], clock=clock)
    sync = ScriptedUpstream("sync", [ProviderUnavailable("provider_error", "HTTP 502"), rendered()], clock=clock)
    deps = worker(slow, sync)
    assert run_job(job.job_id, deps) == "waiting"
    # When the poll finds every upstream unavailable, the job is released for a retry and the poll message delayed
    with pytest.raises(RedeliverLater):
        run_job(job.job_id, deps, poll_seq=1)
    released = jobs.get(job.job_id)
    assert released is not None and released.status == "queued" and released.pending_call is None
    # Then that message, redelivered still carrying poll_seq 1, claims the job and runs it (it is the job's only one)
    assert run_job(job.job_id, deps, poll_seq=1) == "succeeded"
    done = jobs.get(job.job_id)
    assert done is not None and done.status == "succeeded" and done.upstream == "sync" and done.attempts == 2
    assert slow.calls == ["submit", "poll", "submit"] and sync.calls == ["submit", "submit"]


def test_a_poll_message_outliving_a_worker_that_died_mid_poll_polls_again(
        jobs: FakeJobRepository, queue: FakeJobQueue, worker: Build, clock: FakeClock) -> None:
    # Given a waiting job whose poll was claimed by a worker that then died (its claim token left on the job)
    job = queued_job(jobs)
    upstream = ScriptedUpstream("queue", [10, rendered()], clock=clock)
    deps = worker(upstream)
    assert run_job(job.job_id, deps) == "waiting"
    assert jobs.claim_poll(job.job_id, token="dead-worker", seq=1, lease_until=now_epoch() + 120) is not None
    # While its lease lasts, the returning poll message claims nothing
    assert run_job(job.job_id, deps, poll_seq=1) == "skipped_poll"
    # When the message comes back after the lease, Then it takes the job over and polls the pending call
    jobs.set(job.job_id, lease_until=now_epoch() - 1)
    assert run_job(job.job_id, deps, poll_seq=1) == "succeeded"
    assert upstream.calls == ["submit", "poll"]
