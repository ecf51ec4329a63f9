"""The worker under faults, on fakes: heartbeats, crashes between steps, unclassified failures, lost answers,
dead-letter copies racing a live worker. Each test injects the failure at one point and checks the job ends as
it must (once, with its event) or is left to whoever owns it."""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

import pytest

from retouch.jobs.abandoned import end_abandoned_job
from retouch.jobs.heartbeat import Heartbeat
from retouch.jobs.process import handle_delivery, run_job
from retouch.models.common import now_epoch
from retouch.providers.base import ProviderResult
from retouch.retry import RedeliverLater
from tests.builders import queued_job
from tests.fakes import (
    FakeJobQueue,
    FakeJobRepository,
    FakeObjectStore,
    ScriptedProvider,
    billing_over,
    no_events,
    rendered,
)
from tests.fakes.wiring import Build, claimed


class Announcements:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __call__(self, *args: Any) -> None:
        self.calls.append(tuple(a if isinstance(a, str) else a.job_id for a in args))


class SlowProvider(ScriptedProvider):
    def __init__(self, seconds: float, *outcomes: Any) -> None:
        super().__init__(*outcomes)
        self.seconds = seconds

    def generate(self, *, options: dict[str, Any]) -> ProviderResult:
        time.sleep(self.seconds)
        return super().generate(options=options)


# -- The heartbeat --------------------------------------------------------------------------------------


def test_a_long_provider_call_keeps_renewing_the_lease_and_the_message(jobs: FakeJobRepository,
                                                                       queue: FakeJobQueue, worker_deps: Build,
                                                                       monkeypatch: pytest.MonkeyPatch):
    # Given a 6 s lease renewed every 0.1 s, and a provider that takes 0.45 s
    job = queued_job(jobs)
    deps = worker_deps(SlowProvider(0.45, rendered()), lease_seconds=6)
    deps = dataclasses.replace(deps, heartbeat_every=0.1)
    renewals: list[int] = []
    original = jobs.renew_lease

    def renew(job_id: str, *, token: str, lease_until: int) -> bool:
        renewals.append(lease_until)
        return original(job_id, token=token, lease_until=lease_until)

    monkeypatch.setattr(jobs, "renew_lease", renew)

    # When the worker runs it
    assert handle_delivery(job.job_id, "r", deps, queue.delay_redelivery) == "succeeded"

    # Then the lease was renewed several times while the provider worked, each time with the message's visibility
    assert len(renewals) >= 3
    assert queue.redeliveries[0] == ("r", 6 + 5)
    assert queue.redeliveries.count(("r", 11)) == len(renewals) + 1


def test_the_heartbeat_survives_a_failed_beat_and_stops_when_the_claim_is_lost():
    # Given beats that fail once, succeed once, then report the claim lost
    answers: list[Any] = [RuntimeError("DynamoDB 500"), True, False]
    beats = threading.Event()

    def beat() -> bool:
        answer = answers.pop(0)
        if not answers:
            beats.set()
        if isinstance(answer, Exception):
            raise answer
        return answer

    # When the heartbeat runs
    with Heartbeat(beat, 0.01) as heartbeat:
        assert beats.wait(2)
        time.sleep(0.05)
    # Then it kept beating past the failure and stopped at the lost claim (no further beats were asked for)
    assert answers == [] and heartbeat.beats == 2


# -- Crashes and unclassified failures ----------------------------------------------------------------


def test_a_crash_after_storing_outputs_finishes_without_calling_the_provider_again(
        jobs: FakeJobRepository, store: FakeObjectStore, worker_deps: Build, monkeypatch: pytest.MonkeyPatch):
    # Given a worker whose finishing write fails (DynamoDB 500) after the outputs were stored
    job = queued_job(jobs)
    provider = ScriptedProvider(rendered())
    deps = worker_deps(provider, retry_base_seconds=1)
    original_end = jobs.end
    failures = [RuntimeError("InternalServerError")]

    def end(transition: Any, **kwargs: Any) -> bool:
        if failures:
            raise failures.pop()
        return original_end(transition, **kwargs)

    monkeypatch.setattr(jobs, "end", end)

    # When the first delivery runs, and then the retried one
    with pytest.raises(RedeliverLater) as retry:
        run_job(job.job_id, deps)
    assert retry.value.delay_seconds <= 2
    resumed = jobs.get(job.job_id)
    assert resumed.status == "queued" and resumed.produced is not None
    outcome = run_job(job.job_id, deps)

    # Then the job succeeded with the first attempt's outputs, and the provider was called once
    done = jobs.get(job.job_id)
    assert outcome == "succeeded" and len(provider.calls) == 1
    assert [o.key for o in done.outputs] == [o.key for o in resumed.produced.outputs]
    assert done.produced is None and set(store.objects) == {o.key for o in done.outputs}


def test_an_unclassified_failure_is_retried_a_bounded_number_of_times_then_fails_the_job(
        jobs: FakeJobRepository, worker_deps: Build):
    # Given an object store that always fails (S3 unreachable), three attempts allowed
    job = queued_job(jobs)

    class BrokenStore(FakeObjectStore):
        def put(self, key: str, data: bytes, content_type: str) -> None:
            raise ConnectionError("S3 unreachable")

    provider = ScriptedProvider(rendered(), rendered(), rendered())
    deps = worker_deps(provider, max_attempts=3, retry_base_seconds=1)
    deps = dataclasses.replace(deps, store=BrokenStore())

    # When its deliveries run
    delays = []
    for _ in range(2):
        with pytest.raises(RedeliverLater) as retry:
            run_job(job.job_id, deps)
        delays.append(retry.value.delay_seconds)
        assert jobs.get(job.job_id).error.code == "processing_error"
    outcome = run_job(job.job_id, deps)

    # Then it was retried after seconds (not the queue's 90 minutes), and failed with a code on the last attempt
    failed = jobs.get(job.job_id)
    assert all(d <= 3 for d in delays)
    assert outcome == "failed" and failed.error.code == "processing_failed" and failed.attempts == 3


def test_a_finish_that_committed_but_lost_its_answer_still_emits_the_event(jobs: FakeJobRepository,
                                                                           worker_deps: Build,
                                                                           monkeypatch: pytest.MonkeyPatch):
    # Given a finishing write that commits and then raises (the answer was lost)
    job = queued_job(jobs)
    original_end = jobs.end

    def end(transition: Any, **kwargs: Any) -> bool:
        original_end(transition, **kwargs)
        raise ConnectionError("connection reset after the write")

    monkeypatch.setattr(jobs, "end", end)
    announce = Announcements()
    deps = worker_deps(ScriptedProvider(rendered()))
    deps = dataclasses.replace(deps, announce=announce)

    # When the worker runs it
    outcome = run_job(job.job_id, deps)

    # Then the job is succeeded, and the worker asked for the ended job's event (announcing is idempotent)
    assert jobs.get(job.job_id).status == "succeeded"
    assert outcome == "lost_claim"
    assert announce.calls[-1] == (job.job_id,)


def test_a_failed_visibility_push_is_tried_again(jobs: FakeJobRepository, worker_deps: Build):
    # Given a provider outage and an SQS call that fails once
    job = queued_job(jobs)
    pushes: list[tuple[str, int]] = []
    failures = [ConnectionError("SQS unreachable")]

    def delay_redelivery(receipt: str, seconds: int) -> None:
        if len(pushes) == 1 and failures:
            raise failures.pop()
        pushes.append((receipt, seconds))

    from retouch.providers.base import ProviderUnavailable

    deps = worker_deps(ScriptedProvider(ProviderUnavailable("provider_error", "503")), retry_base_seconds=10)

    # When the delivery is released for a retry
    with pytest.raises(RedeliverLater) as retry:
        handle_delivery(job.job_id, "r", deps, delay_redelivery)

    # Then the backoff was pushed on the second try
    assert pushes == [claimed("r"), ("r", retry.value.delay_seconds)]


def test_losing_the_claim_after_storing_outputs_deletes_what_this_worker_stored(
        jobs: FakeJobRepository, store: FakeObjectStore, worker_deps: Build):
    # Given a job taken over (its lease expired) while this worker's provider call ran
    job = queued_job(jobs)

    class TakenOver(ScriptedProvider):
        def generate(self, *, options: dict[str, Any]) -> ProviderResult:
            jobs.set(job.job_id, claim_token="newer-worker", lease_until=now_epoch() + 100)
            return super().generate(options=options)

    # When this worker stores its outputs and tries to checkpoint them
    outcome = run_job(job.job_id, worker_deps(TakenOver(rendered())))

    # Then it stands aside and leaves no orphaned outputs behind
    assert outcome == "lost_claim" and store.objects == {}
    assert jobs.items[job.job_id]["claim_token"] == "newer-worker"


def test_a_worker_that_takes_over_deletes_what_a_dead_worker_stored_but_never_recorded(
        jobs: FakeJobRepository, store: FakeObjectStore, worker_deps: Build):
    # Given a job whose worker was killed after storing an output and before checkpointing it (its lease ran out)
    job = queued_job(jobs)
    jobs.set(job.job_id, status="running", claim_token="dead", lease_until=now_epoch() - 1, attempts=1)
    orphan = f"outputs/{job.job_id}/dead-0.png"
    store.put(orphan, b"unrecorded", "image/png")
    store.put("outputs/job_other/x-0.png", b"another job's", "image/png")

    # When the next delivery takes the job over and finishes it
    outcome = run_job(job.job_id, worker_deps(ScriptedProvider(rendered())))

    # Then only the new claim's output is left for the job; the other job's is untouched
    done = jobs.get(job.job_id)
    assert outcome == "succeeded" and orphan not in store.objects
    assert sorted(k for k in store.objects if k.startswith(f"outputs/{job.job_id}/")) == [done.outputs[0].key]
    assert "outputs/job_other/x-0.png" in store.objects


def test_a_worker_that_resumes_from_a_checkpoint_keeps_the_checkpointed_outputs(
        jobs: FakeJobRepository, store: FakeObjectStore, worker_deps: Build):
    # Given a job whose worker checkpointed its output, then died before finishing
    from retouch.models.records import ProducedOutputs, StoredOutput

    job = queued_job(jobs)
    key = f"outputs/{job.job_id}/dead-0.png"
    store.put(key, b"checkpointed", "image/png")
    produced = ProducedOutputs(outputs=[StoredOutput(key=key, content_type="image/png", bytes=12, width=1024,
                                                     height=1024)])
    jobs.set(job.job_id, status="running", claim_token="dead", lease_until=now_epoch() - 1, attempts=1,
             produced=produced.model_dump())
    provider = ScriptedProvider()

    # When the next delivery takes it over
    outcome = run_job(job.job_id, worker_deps(provider))

    # Then it finishes from the checkpoint: the provider is not called and the output is kept and served
    assert outcome == "succeeded" and provider.calls == [] and key in store.objects
    assert [o.key for o in jobs.get(job.job_id).outputs] == [key]


# -- The dead-letter path ------------------------------------------------------------------------------


def test_a_dead_lettered_copy_leaves_a_job_with_a_live_lease_to_its_worker(jobs: FakeJobRepository):
    # Given a job a live worker holds (its lease runs another 100 s), and a dead-lettered copy of its message
    job = queued_job(jobs)
    jobs.set(job.job_id, status="running", claim_token="live", lease_until=now_epoch() + 100)

    # When the dead-letter handler sees the copy
    ended = end_abandoned_job(job.job_id, billing_over(jobs), no_events)

    # Then the job is untouched: still the live worker's
    item = jobs.items[job.job_id]
    assert ended is False and item["status"] == "running" and item["claim_token"] == "live"


def test_a_release_that_committed_but_lost_its_answer_still_brings_the_message_back(
        jobs: FakeJobRepository, queue: FakeJobQueue, worker_deps: Build, monkeypatch: pytest.MonkeyPatch):
    # Given a provider outage, and a release whose write commits but answers as if its condition failed
    from retouch.providers.base import ProviderUnavailable

    job = queued_job(jobs)
    original = jobs.release_for_retry

    def release(job_id: str, **kwargs: Any) -> bool:
        original(job_id, **kwargs)
        return False  # the SDK's retry of the committed write failed its condition

    monkeypatch.setattr(jobs, "release_for_retry", release)
    deps = worker_deps(ScriptedProvider(ProviderUnavailable("provider_error", "503")), retry_base_seconds=10)

    # When the delivery runs, then the message is kept for the backoff (not deleted as another worker's)
    with pytest.raises(RedeliverLater) as retry:
        handle_delivery(job.job_id, "r", deps, queue.delay_redelivery)
    assert queue.redeliveries[-1] == ("r", retry.value.delay_seconds)
    assert jobs.get(job.job_id).status == "queued"


def test_a_job_whose_workers_keep_dying_ends_instead_of_calling_the_provider_again(jobs: FakeJobRepository,
                                                                                   worker_deps: Build):
    # Given a job already claimed 4 times with no failure recorded (each worker was killed), 3 attempts allowed
    job = queued_job(jobs, attempts=4)
    provider = ScriptedProvider(rendered())

    # When it is delivered again
    outcome = run_job(job.job_id, worker_deps(provider, max_attempts=3))

    # Then it ends failed with a code, and the provider is not paid again
    failed = jobs.get(job.job_id)
    assert outcome == "failed" and failed.error.code == "processing_failed" and provider.calls == []
