"""The worker's logic (jobs/process, jobs/abandoned) on fakes: claim, provider call, outputs, retries."""

from __future__ import annotations

import re
from typing import Any

import pytest

from retouch.errors import JobFailure
from retouch.jobs.abandoned import end_abandoned_message
from retouch.jobs.process import (
    WorkerDeps,
    handle_delivery,
    run_job,
)
from retouch.models.common import now_epoch
from retouch.models.records import JobRecord, StoredInput
from retouch.providers.base import ProviderImage, ProviderRefused, ProviderResult, ProviderUnavailable
from retouch.retry import MAX_BACKOFF_SECONDS, RedeliverLater, backoff_seconds
from tests.builders import image_bytes, image_size, mask_png, new_account_id, new_job_id, png, queued_job
from tests.fakes import (
    FakeJobQueue,
    FakeJobRepository,
    FakeObjectStore,
    FakeUrls,
    ScriptedProvider,
    billing_over,
    no_events,
    rendered,
)
from tests.fakes.wiring import Build, claimed


def output_key(job: JobRecord, index: int, extension: str) -> str:
    """Output keys carry the claim's token (16 hex digits) before the index."""
    [key] = [k for k in (o.key for o in job.outputs) if k.endswith(f"-{index}.{extension}")]
    assert re.fullmatch(rf"outputs/{job.job_id}/[0-9a-f]{{16}}-{index}\.{extension}", key), key
    return key


# -- Success ------------------------------------------------------------------------------------------


def test_generation_success_stores_outputs_and_ends_succeeded(jobs: FakeJobRepository, store: FakeObjectStore,
                                                               worker_deps: Build) -> None:
    # Given a queued generation of two JPEGs, and a provider that renders them
    job = queued_job(jobs, request={"model": "gpt-image-2", "prompt": "p", "n": 2, "size": "1024x640",
                                    "output_format": "jpeg", "response_format": "b64_json"})
    provider = ScriptedProvider(rendered("1024x640", "jpeg", n=2))

    # When the worker runs it
    outcome = run_job(job.job_id, worker_deps(provider))

    # Then the outputs are at outputs/{job}/{token}-{i}.jpg (no account id: the key shows in presigned URLs)
    assert outcome == "succeeded"
    keys = [output_key(jobs.get(job.job_id), i, "jpg") for i in (0, 1)]
    assert sorted(store.objects) == keys
    for key in keys:
        assert store.objects[key].content_type == "image/jpeg"
        assert image_size(store.objects[key].data) == ("JPEG", (1024, 640))
    # and the job records them, with usage and the resolved options, claim released
    done = jobs.get(job.job_id)
    assert done is not None and done.status == "succeeded" and done.attempts == 1
    assert [(o.key, o.width, o.height, o.content_type) for o in done.outputs] == [
        (k, 1024, 640, "image/jpeg") for k in keys]
    # (two 1024x640 low images, $0.00375 each, and the one-byte prompt estimated at one token, $0.000005)
    assert done.usage is not None and done.usage["pricing"]["input_basis"] == "estimate"
    assert {k: v for k, v in done.usage.items() if k != "pricing"} == {"total_tokens": 42, "images": 2,
                                                                        "cost_micros": 7_505}
    assert done.result == {"size": "1024x640", "quality": "low", "output_format": "jpeg", "background": "opaque"}
    assert done.claim_token is None and done.lease_until is None and done.error is None
    assert done.started_at is not None and done.completed_at is not None
    # and the provider never sees our own response_format
    [call] = provider.calls
    assert call.kind == "generate" and "response_format" not in call.options and call.options["n"] == 2


def test_edit_loads_stored_and_fetched_inputs_with_mask(jobs: FakeJobRepository, store: FakeObjectStore,
                                                        urls: FakeUrls, worker_deps: Build) -> None:
    # Given a queued edit: one stored PNG, one image by URL, and a stored mask
    account = new_account_id()
    store.put(f"inputs/{account}/x/image_0.png", png(96, 64), "image/png")
    store.put(f"inputs/{account}/x/mask.png", mask_png(96, 64), "image/png")
    urls.pages["https://images.example/b.webp"] = image_bytes("webp", 50, 50)
    job = queued_job(jobs, kind="edit", account_id=account, inputs=[
        StoredInput(key=f"inputs/{account}/x/image_0.png"), StoredInput(url="https://images.example/b.webp")],
        mask=StoredInput(key=f"inputs/{account}/x/mask.png"))
    provider = ScriptedProvider(rendered("1024x1024"))

    # When the worker runs it
    outcome = run_job(job.job_id, worker_deps(provider))

    # Then the provider gets both images (typed by content) and the mask
    assert outcome == "succeeded"
    [call] = provider.calls
    assert [(i.content_type, i.filename) for i in call.images] == [("image/png", "image_0.png"),
                                                                   ("image/webp", "image_1.webp")]
    assert call.mask is not None and call.mask.data == mask_png(96, 64)
    assert urls.fetched == ["https://images.example/b.webp"]


def test_result_without_resolved_size_reports_the_output_dimensions(jobs: FakeJobRepository,
                                                                    worker_deps: Build) -> None:
    # Given a provider that does not say what `auto` became
    job = queued_job(jobs)
    result = rendered("1536x1024")
    provider = ScriptedProvider(ProviderResult(images=result.images))

    # When the worker runs the job
    run_job(job.job_id, worker_deps(provider))

    # Then the job's resolved size (and background: it has no alpha channel) is read from the image itself
    assert jobs.get(job.job_id).result == {"size": "1536x1024", "background": "opaque"}


# -- At-least-once delivery -------------------------------------------------------------------------


def test_duplicate_delivery_does_nothing(jobs: FakeJobRepository, store: FakeObjectStore, worker_deps: Build) -> None:
    # Given a job the worker already finished
    job = queued_job(jobs)
    provider = ScriptedProvider(rendered())
    deps = worker_deps(provider)
    assert run_job(job.job_id, deps) == "succeeded"
    finished = jobs.get(job.job_id)

    # When its message is delivered again
    outcome = run_job(job.job_id, deps)

    # Then it is skipped: one provider call, the job unchanged
    assert outcome == "skipped_succeeded"
    assert len(provider.calls) == 1
    assert jobs.get(job.job_id) == finished


def test_running_job_with_live_lease_is_left_to_its_owner_and_its_message_kept(
        jobs: FakeJobRepository, worker_deps: Build) -> None:
    # Given a job another worker claimed, lease still valid for 600 s
    job = queued_job(jobs)
    jobs.set(job.job_id, status="running", claim_token="other", lease_until=now_epoch() + 600, attempts=1)
    provider = ScriptedProvider()
    queue = FakeJobQueue()

    # When a second delivery arrives
    with pytest.raises(RedeliverLater) as later:
        handle_delivery(job.job_id, "receipt-dup", worker_deps(provider), queue.delay_redelivery)

    # Then it leaves the job to its owner, and keeps its message until the lease ends (it may be the only one)
    assert provider.calls == []
    assert jobs.items[job.job_id]["claim_token"] == "other"
    assert 600 <= later.value.delay_seconds <= 610
    assert queue.redeliveries == [("receipt-dup", later.value.delay_seconds)]


def test_an_unreadable_image_from_the_provider_is_retried_not_a_crash(
        jobs: FakeJobRepository, store: FakeObjectStore, worker_deps: Build) -> None:
    # Given a provider that answers garbage bytes, then a real image
    job = queued_job(jobs)
    garbage = ProviderResult(images=[ProviderImage(data=b"\x89PNG\r\n\x1a\n truncated", content_type="image/png")])
    provider = ScriptedProvider(garbage, rendered())
    deps = worker_deps(provider, retry_base_seconds=1)

    # When the worker runs it twice (the retry comes back through the queue)
    with pytest.raises(RedeliverLater):
        run_job(job.job_id, deps)
    assert jobs.get(job.job_id).status == "queued"
    assert jobs.get(job.job_id).error.code == "provider_bad_response"

    # Then the second attempt succeeds and nothing unreadable was stored
    assert run_job(job.job_id, deps) == "succeeded"
    assert [k for k in store.objects if k.startswith(f"outputs/{job.job_id}/")] == [
        output_key(jobs.get(job.job_id), 0, "png")]


def test_running_job_with_expired_lease_is_reclaimed(jobs: FakeJobRepository, worker_deps: Build) -> None:
    # Given a job whose worker died (lease expired) after its first attempt
    job = queued_job(jobs)
    first_start = now_epoch() - 1000
    jobs.set(job.job_id, status="running", claim_token="dead", lease_until=now_epoch() - 1, attempts=1,
             started_at=first_start)

    # When the message is delivered again
    outcome = run_job(job.job_id, worker_deps(ScriptedProvider(rendered())))

    # Then the job is taken over and finished, counted as a second attempt, start time kept
    done = jobs.get(job.job_id)
    assert outcome == "succeeded"
    assert done.status == "succeeded" and done.attempts == 2
    assert done.started_at == first_start


def test_unknown_job_is_skipped(worker_deps: Build) -> None:
    # Given no such job
    # When its message is delivered
    outcome = run_job(new_job_id(), worker_deps(ScriptedProvider()))

    # Then nothing happens
    assert outcome == "skipped_missing"


# -- Provider failures -------------------------------------------------------------------------------


def test_refusal_ends_failed_with_the_provider_code_without_retry(jobs: FakeJobRepository, store: FakeObjectStore,
                                                                 queue: FakeJobQueue, worker_deps: Build) -> None:
    # Given a provider that refuses the prompt
    job = queued_job(jobs)
    provider = ScriptedProvider(ProviderRefused("moderation_blocked", "rejected by the safety system"))

    # When the worker handles the delivery
    outcome = handle_delivery(job.job_id, "receipt-1", worker_deps(provider), queue.delay_redelivery)

    # Then the job failed with the provider's code, no redelivery (only the claim's hold), no outputs
    failed = jobs.get(job.job_id)
    assert outcome == "failed"
    assert failed.status == "failed" and failed.error.code == "moderation_blocked"
    assert failed.completed_at is not None and failed.outputs == []
    assert queue.redeliveries == [claimed("receipt-1")] and store.objects == {}
    assert len(provider.calls) == 1


def test_unavailable_goes_back_to_queued_and_delays_the_message(jobs: FakeJobRepository, queue: FakeJobQueue,
                                                                worker_deps: Build) -> None:
    # Given a provider that is down for this first attempt, and a 10 s retry base
    job = queued_job(jobs)
    provider = ScriptedProvider(ProviderUnavailable("provider_error", "HTTP 503"))

    # When the worker handles the delivery
    with pytest.raises(RedeliverLater) as retry:
        handle_delivery(job.job_id, "receipt-7", worker_deps(provider, retry_base_seconds=10), queue.delay_redelivery)

    # Then the job is queued again with the error noted and the claim released
    again = jobs.get(job.job_id)
    assert again.status == "queued" and again.attempts == 1
    assert again.error is not None and again.error.code == "provider_error"
    assert again.claim_token is None
    # and the message's next delivery is pushed out by the backoff (10 s +-20 %)
    assert queue.redeliveries == [claimed("receipt-7"), ("receipt-7", retry.value.delay_seconds)]
    assert 8 <= retry.value.delay_seconds <= 12


def test_retry_after_longer_than_the_backoff_wins(jobs: FakeJobRepository, queue: FakeJobQueue,
                                                  worker_deps: Build) -> None:
    # Given a 429 asking for 120 s, with a 1 s retry base
    job = queued_job(jobs)
    provider = ScriptedProvider(ProviderUnavailable("rate_limited", "HTTP 429", retry_after=120))

    # When the worker handles the delivery
    with pytest.raises(RedeliverLater):
        handle_delivery(job.job_id, "r", worker_deps(provider, retry_base_seconds=1), queue.delay_redelivery)

    # Then the message waits at least what the provider asked
    assert queue.redeliveries == [claimed("r"), ("r", 120)]


def test_retried_job_succeeds_on_the_next_delivery(jobs: FakeJobRepository, queue: FakeJobQueue,
                                                   worker_deps: Build) -> None:
    # Given a provider that fails once then works
    job = queued_job(jobs)
    deps = worker_deps(ScriptedProvider(ProviderUnavailable("provider_timeout", "timed out"), rendered()))
    with pytest.raises(RedeliverLater):
        handle_delivery(job.job_id, "r1", deps, queue.delay_redelivery)

    # When the message comes back
    outcome = handle_delivery(job.job_id, "r2", deps, queue.delay_redelivery)

    # Then the job succeeds on attempt 2 and the earlier error is cleared
    done = jobs.get(job.job_id)
    assert outcome == "succeeded" and done.attempts == 2 and done.error is None


def test_last_attempt_ends_failed_provider_unavailable(jobs: FakeJobRepository, queue: FakeJobQueue,
                                                       worker_deps: Build) -> None:
    # Given a job already tried twice, with three attempts allowed
    job = queued_job(jobs, attempts=2)
    provider = ScriptedProvider(ProviderUnavailable("provider_error", "HTTP 500"))

    # When the third attempt also meets an unavailable provider
    outcome = handle_delivery(job.job_id, "r", worker_deps(provider, max_attempts=3), queue.delay_redelivery)

    # Then the job ends failed provider_unavailable, and the message is not delayed (it will be deleted)
    failed = jobs.get(job.job_id)
    assert outcome == "failed"
    assert failed.status == "failed" and failed.attempts == 3 and failed.error.code == "provider_unavailable"
    assert "3 attempts" in failed.error.message
    assert queue.redeliveries == [claimed("r")]


def test_empty_provider_result_is_retried(jobs: FakeJobRepository, queue: FakeJobQueue, worker_deps: Build) -> None:
    # Given a provider answering with no images
    job = queued_job(jobs)

    # When the worker handles the delivery
    with pytest.raises(RedeliverLater):
        handle_delivery(job.job_id, "r", worker_deps(ScriptedProvider(ProviderResult(images=[]))),
                        queue.delay_redelivery)

    # Then it is treated as transient
    assert jobs.get(job.job_id).error.code == "provider_bad_response"


@pytest.mark.parametrize(("page", "code"), [
    pytest.param(image_bytes("gif", 10, 10), "invalid_image_format", id="fetched-gif"),
    pytest.param(png()[:20], "invalid_image", id="fetched-truncated"),
])
def test_unusable_fetched_image_fails_the_job(page: bytes, code: str, jobs: FakeJobRepository, urls: FakeUrls,
                                              worker_deps: Build) -> None:
    # Given an edit whose URL image turns out not to be an accepted image
    urls.pages["https://images.example/a"] = page
    job = queued_job(jobs, kind="edit", inputs=[StoredInput(url="https://images.example/a")])
    provider = ScriptedProvider()

    # When the worker runs it
    outcome = run_job(job.job_id, worker_deps(provider))

    # Then the job fails with the image problem, and the provider is never called
    failed = jobs.get(job.job_id)
    assert outcome == "failed" and failed.error.code == code and "image[0]" in failed.error.message
    assert provider.calls == []


def test_fetch_failure_fails_the_job_with_its_code(jobs: FakeJobRepository, worker_deps: Build,
                                                   store: FakeObjectStore) -> None:
    # Given an edit whose URL cannot be fetched
    job = queued_job(jobs, kind="edit", inputs=[StoredInput(url="https://10.0.0.1/a.png")])

    def refuse(url: str, seconds_left: float) -> bytes:
        raise JobFailure("image_url_forbidden", "private address")

    deps = worker_deps(ScriptedProvider())
    deps = WorkerDeps(**{**deps.__dict__, "fetch_url": refuse})

    # When the worker runs it
    outcome = run_job(job.job_id, deps)

    # Then the job fails with the fetcher's code
    assert outcome == "failed" and jobs.get(job.job_id).error.code == "image_url_forbidden"


def test_mask_not_matching_a_fetched_image_fails_invalid_mask(jobs: FakeJobRepository, store: FakeObjectStore,
                                                              urls: FakeUrls, worker_deps: Build) -> None:
    # Given an edit whose first image (by URL) turns out 50x50 while the mask is 96x64
    urls.pages["https://images.example/a.png"] = png(50, 50)
    store.put("inputs/m.png", mask_png(96, 64), "image/png")
    job = queued_job(jobs, kind="edit", inputs=[StoredInput(url="https://images.example/a.png")],
                     mask=StoredInput(key="inputs/m.png"))

    # When the worker runs it
    outcome = run_job(job.job_id, worker_deps(ScriptedProvider()))

    # Then it fails invalid_mask
    assert outcome == "failed" and jobs.get(job.job_id).error.code == "invalid_mask"


def test_an_uploaded_file_deleted_before_the_job_ran_fails_it_input_missing(jobs: FakeJobRepository,
                                                                            worker_deps: Build) -> None:
    # Given an edit accepted on an uploaded file whose object is gone by the time the worker runs (deleted, expired)
    account = new_account_id()
    job = queued_job(jobs, kind="edit", account_id=account,
                     inputs=[StoredInput(key=f"uploads/{account}/file_{'A' * 24}", file_id=f"file_{'A' * 24}")])
    provider = ScriptedProvider()

    # When the worker runs it
    outcome = run_job(job.job_id, worker_deps(provider))

    # Then it ends failed with input_missing at once (no retries), the provider never called
    assert outcome == "failed" and jobs.get(job.job_id).error.code == "input_missing"
    assert provider.calls == []


def test_an_uploaded_file_is_read_whole_and_checked_by_the_worker(jobs: FakeJobRepository, store: FakeObjectStore,
                                                                   worker_deps: Build) -> None:
    # Given an edit accepted on an uploaded JPEG (only its header was read at submit)
    account = new_account_id()
    key = f"uploads/{account}/file_{'B' * 24}"
    store.put(key, image_bytes("jpeg", 64, 48), "image/jpeg")
    job = queued_job(jobs, kind="edit", account_id=account, inputs=[StoredInput(key=key, file_id=f"file_{'B' * 24}")])
    provider = ScriptedProvider(rendered())

    # When the worker runs it
    outcome = run_job(job.job_id, worker_deps(provider))

    # Then it read the whole object, checked it, and sent it to the provider typed by content
    assert outcome == "succeeded" and store.whole_reads == [key]
    [call] = provider.calls
    assert [(i.content_type, i.filename, i.data) for i in call.images] == [
        ("image/jpeg", "image_0.jpg", image_bytes("jpeg", 64, 48))]


# -- Losing the claim -------------------------------------------------------------------------------------


class StealsClaim(ScriptedProvider):
    """While the call runs, the job changes hands (lease expired and re-claimed, or dead-lettered)."""

    def __init__(self, jobs: FakeJobRepository, job_id: str, change: dict[str, Any], *outcomes: Any) -> None:
        super().__init__(*outcomes)
        self._jobs, self._job_id, self._change = jobs, job_id, change

    def generate(self, *, options: dict[str, Any]) -> ProviderResult:
        self._jobs.set(self._job_id, **self._change)
        return super().generate(options=options)


@pytest.mark.parametrize("outcome", [
    pytest.param(rendered(), id="success"),
    pytest.param(ProviderRefused("moderation_blocked", "no"), id="refused"),
    pytest.param(ProviderUnavailable("provider_error", "500"), id="unavailable"),
])
@pytest.mark.parametrize("change", [
    pytest.param({"claim_token": "newer-worker", "lease_until": 1}, id="reclaimed"),
    pytest.param({"status": "failed", "error": {"code": "processing_failed", "message": "dead-lettered"}},
                 id="dead-lettered"),
])
def test_worker_that_lost_its_claim_changes_nothing(outcome: Any, change: dict[str, Any], jobs: FakeJobRepository,
                                                    queue: FakeJobQueue, worker_deps: Build) -> None:
    # Given a job that changes hands while this worker waits on the provider
    job = queued_job(jobs)
    provider = StealsClaim(jobs, job.job_id, change, outcome)

    # When this worker tries to finish it
    result = handle_delivery(job.job_id, "r", worker_deps(provider), queue.delay_redelivery)

    # Then it reports lost_claim and the job is exactly as the new owner left it
    assert result == "lost_claim"
    item = jobs.items[job.job_id]
    for key, value in change.items():
        assert item[key] == value
    assert item["outputs"] == [] and queue.redeliveries == [claimed("r")]


# -- Backoff -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("attempt", "base", "low", "high"), [
    pytest.param(1, 15, 12, 18, id="first"),
    pytest.param(2, 15, 24, 36, id="second-doubles"),
    pytest.param(3, 15, 48, 72, id="third"),
    pytest.param(0, 15, 12, 18, id="attempt-0-like-first"),
    pytest.param(20, 15, MAX_BACKOFF_SECONDS, MAX_BACKOFF_SECONDS, id="capped"),
    pytest.param(3, 0, 0, 0, id="zero-base"),
])
def test_backoff_doubles_with_jitter_and_cap(attempt: int, base: float, low: int, high: int) -> None:
    # Given an attempt number and a retry base
    # When many delays are drawn
    delays = {backoff_seconds(attempt, base) for _ in range(300)}

    # Then all lie within +-20 % of base * 2^(attempt-1), capped at 15 minutes, as whole seconds
    assert all(isinstance(d, int) and low <= d <= high for d in delays)


@pytest.mark.parametrize(("retry_after", "expected"), [(100, 100), (5000, MAX_BACKOFF_SECONDS)])
def test_backoff_honours_retry_after_up_to_the_cap(retry_after: float, expected: int) -> None:
    # Given a small base and a provider Retry-After
    # When the delay is computed
    # Then it is never sooner than Retry-After, and never beyond the cap
    assert backoff_seconds(1, 1, retry_after) == expected


def test_backoff_keeps_its_own_delay_when_longer_than_retry_after() -> None:
    assert 48 <= backoff_seconds(3, 15, retry_after=1) <= 72


# -- Dead-lettered messages -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["queued", "running"])
def test_dead_lettered_unfinished_job_ends_failed(status: str, jobs: FakeJobRepository) -> None:
    # Given an unfinished job whose message ran out of receives (a running one's worker died: its lease ran out)
    job = queued_job(jobs)
    if status == "running":
        jobs.set(job.job_id, status="running", claim_token="t", lease_until=now_epoch() - 1)

    # When the dead-letter handler sees its message
    ended = end_abandoned_message(f'{{"job_id": "{job.job_id}"}}', billing_over(jobs), no_events)

    # Then the job is failed processing_failed, claim removed
    failed = jobs.get(job.job_id)
    assert ended is True
    assert failed.status == "failed" and failed.error.code == "processing_failed"
    assert failed.claim_token is None and failed.completed_at is not None


@pytest.mark.parametrize("status", ["succeeded", "failed", "canceled"])
def test_dead_lettered_terminal_job_is_left_alone(status: str, jobs: FakeJobRepository) -> None:
    # Given a job that already ended
    job = queued_job(jobs)
    jobs.set(job.job_id, status=status)
    before = dict(jobs.items[job.job_id])

    # When a stale copy of its message is dead-lettered
    ended = end_abandoned_message(f'{{"job_id": "{job.job_id}"}}', billing_over(jobs), no_events)

    # Then nothing changes
    assert ended is False and jobs.items[job.job_id] == before


@pytest.mark.parametrize("body", ["not json", '{"job": 1}', '{"job_id": "nope"}'])
def test_unreadable_dead_lettered_message_is_dropped(body: str, jobs: FakeJobRepository) -> None:
    # Given a message that names no valid job
    # When the dead-letter handler sees it
    # Then it is dropped without touching any job
    assert end_abandoned_message(body, billing_over(jobs), no_events) is False
    assert jobs.items == {}
