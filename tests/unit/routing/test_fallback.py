"""Routing on fakes: upstreams in order, fallback on provider_unavailable, never on a refusal, auth failures shut
an upstream out for the job, and every attempt is recorded with the serving upstream and its cost."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from retouch.jobs.process import WorkerDeps, run_job
from retouch.providers.base import (
    ProviderAuthFailed,
    ProviderRefused,
    ProviderUnavailable,
)
from retouch.retry import RedeliverLater
from tests.builders import queued_job
from tests.fakes import FakeJobQueue, FakeJobRepository, rendered
from tests.fakes.routing import FakeClock, ScriptedUpstream

Build = Callable[..., WorkerDeps]


def outcomes(jobs: FakeJobRepository, job_id: str) -> list[tuple[str, str, str | None]]:
    job = jobs.get(job_id)
    assert job is not None
    return [(a.upstream, a.outcome, a.code) for a in job.upstream_attempts]


def test_an_unavailable_first_upstream_falls_back_to_the_second_at_once(jobs: FakeJobRepository, worker: Build,
                                                                         clock: FakeClock) -> None:
    # Given a job routed to `primary` (answering 503) then `secondary` (which reports its cost)
    job = queued_job(jobs)
    primary = ScriptedUpstream("primary", [ProviderUnavailable("provider_error", "HTTP 503")], clock=clock)
    secondary = ScriptedUpstream("secondary", [rendered()], clock=clock, cost_micros=40_000)
    # When one delivery runs it
    assert run_job(job.job_id, worker(primary, secondary)) == "succeeded"
    # Then it was served by the second upstream in the same delivery, and both attempts are on the job
    done = jobs.get(job.job_id)
    assert done is not None and done.status == "succeeded"
    assert done.upstream == "secondary" and done.upstream_cost_micros == 40_000
    assert outcomes(jobs, job.job_id) == [("primary", "unavailable", "provider_error"),
                                          ("secondary", "succeeded", None)]
    assert done.upstream_attempts[1].upstream_job_id == "secondary-job-1"
    assert done.upstream_attempts[1].cost_micros == 40_000


def test_a_refusal_fails_the_job_without_trying_the_next_upstream(jobs: FakeJobRepository, worker: Build) -> None:
    # Given a first upstream that refuses the prompt (safety)
    job = queued_job(jobs)
    primary = ScriptedUpstream("primary", [ProviderRefused("moderation_blocked", "refused")])
    secondary = ScriptedUpstream("secondary", [rendered()])
    # When the job runs
    assert run_job(job.job_id, worker(primary, secondary)) == "failed"
    # Then it failed with the refusal and the second upstream was never called
    done = jobs.get(job.job_id)
    assert done is not None and done.error is not None and done.error.code == "moderation_blocked"
    assert secondary.calls == []
    assert outcomes(jobs, job.job_id) == [("primary", "refused", "moderation_blocked")]


def test_all_upstreams_unavailable_retries_the_job_later_from_the_first(jobs: FakeJobRepository,
                                                                        worker: Build) -> None:
    # Given two upstreams that both fail once, then work
    job = queued_job(jobs)
    primary = ScriptedUpstream("primary", [ProviderUnavailable("provider_error", "HTTP 500"), rendered()])
    secondary = ScriptedUpstream("secondary", [ProviderUnavailable("provider_timeout", "slow")])
    deps = worker(primary, secondary)
    # When the first delivery runs, the job goes back to the queue with a backoff
    with pytest.raises(RedeliverLater):
        run_job(job.job_id, deps)
    retried = jobs.get(job.job_id)
    assert retried is not None and retried.status == "queued"
    assert retried.error is not None and retried.error.code == "provider_timeout"
    # And the next delivery starts from the first upstream again, which serves it
    assert run_job(job.job_id, deps) == "succeeded"
    assert outcomes(jobs, job.job_id) == [("primary", "unavailable", "provider_error"),
                                          ("secondary", "unavailable", "provider_timeout"),
                                          ("primary", "succeeded", None)]


def test_an_auth_failure_is_logged_and_that_upstream_is_not_called_again_for_the_job(
        jobs: FakeJobRepository, worker: Build, caplog: pytest.LogCaptureFixture) -> None:
    # Given a first upstream whose key is wrong and a second that is down once
    job = queued_job(jobs)
    primary = ScriptedUpstream("primary", [ProviderAuthFailed("primary rejected the credentials (HTTP 401)")])
    secondary = ScriptedUpstream("secondary", [ProviderUnavailable("provider_error", "HTTP 502"), rendered()])
    deps = worker(primary, secondary)
    # When the job runs, is retried, and runs again
    with pytest.raises(RedeliverLater):
        run_job(job.job_id, deps)
    assert run_job(job.job_id, deps) == "succeeded"
    # Then the upstream with the wrong key was called once only, and an error names it
    assert primary.calls == ["submit"]
    assert outcomes(jobs, job.job_id) == [("primary", "auth_failed", "provider_auth_failed"),
                                          ("secondary", "unavailable", "provider_error"),
                                          ("secondary", "succeeded", None)]
    [loud] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert "credentials" in loud.getMessage() and loud.upstream == "primary"


def test_every_upstream_rejecting_its_key_fails_the_job_as_provider_auth_failed(jobs: FakeJobRepository,
                                                                               worker: Build) -> None:
    job = queued_job(jobs)
    only = ScriptedUpstream("only", [ProviderAuthFailed("only rejected the credentials (HTTP 403)")])
    assert run_job(job.job_id, worker(only)) == "failed"
    done = jobs.get(job.job_id)
    assert done is not None and done.error is not None and done.error.code == "provider_auth_failed"


def test_an_upstream_that_cannot_serve_the_request_is_refused_before_any_call(jobs: FakeJobRepository,
                                                                              worker: Build) -> None:
    # Given a job asking for more images than the upstream makes per request
    job = queued_job(jobs, request={"model": "gpt-image-2", "prompt": "x", "n": 12})
    upstream = ScriptedUpstream("small", [rendered()])
    # When it runs, it fails as unsupported and the upstream was not called
    assert run_job(job.job_id, worker(upstream)) == "failed"
    assert upstream.steps and upstream.calls == []


def test_the_job_view_shows_the_serving_upstream_and_attempts_without_costs(
        jobs: FakeJobRepository, worker: Build, queue: FakeJobQueue) -> None:
    from retouch.jobs.view import render_job

    job = queued_job(jobs)
    primary = ScriptedUpstream("primary", [ProviderUnavailable("provider_error", "HTTP 503")])
    secondary = ScriptedUpstream("secondary", [rendered()], cost_micros=1_000)
    deps = worker(primary, secondary)
    assert run_job(job.job_id, deps) == "succeeded"
    record = jobs.get(job.job_id)
    assert record is not None
    view = render_job(record, deps.store, 60).model_dump()
    assert view["upstream"] == "secondary"
    assert [(a["upstream"], a["outcome"]) for a in view["upstream_attempts"]] == [("primary", "unavailable"),
                                                                                  ("secondary", "succeeded")]
    assert all("cost_micros" not in attempt for attempt in view["upstream_attempts"])


def test_a_walk_that_lost_its_claim_submits_to_no_further_upstream(jobs: FakeJobRepository, worker: Build,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a first upstream that fails while another worker takes the job over (its lease ran out meanwhile)
    job = queued_job(jobs)

    def taken_over(**_inputs: object) -> object:
        jobs.set(job.job_id, claim_token="another-worker")
        raise ProviderUnavailable("provider_timeout", "slow")

    primary = ScriptedUpstream("primary", [])
    monkeypatch.setattr(primary, "submit", taken_over)
    secondary = ScriptedUpstream("secondary", [rendered()])
    # When the walk records that failure (the write fails its claim condition)
    assert run_job(job.job_id, worker(primary, secondary)) == "lost_claim"
    # Then it stops: the next (paid) upstream is not called, and nothing is written under the lost claim
    assert secondary.calls == []
    done = jobs.get(job.job_id)
    assert done is not None and done.claim_token == "another-worker" and done.upstream_attempts == []
