"""What clients see of a job (jobs/view) and how `Prefer: wait` holds (jobs/wait), on fakes."""

from __future__ import annotations

import base64
from collections.abc import Callable
from itertools import accumulate

import pytest

from retouch.errors import JobNotFound, OutputsExpired
from retouch.jobs.outputs_storing import resolved_options
from retouch.jobs.view import INLINE_BASE64_BUDGET, find_job, render_job
from retouch.jobs.wait import HISTORY_MAX_AGE_SECONDS, MAX_POLL_SECONDS, NEAR_POLL_SECONDS, WaitHistory, wait_for_job
from retouch.models.records import JobError, JobRecord, StoredOutput
from retouch.providers.base import ProviderResult
from tests.builders import new_account_id, new_job_id
from tests.fakes import FakeJobRepository, FakeObjectStore


def job(status: str = "succeeded", response_format: str | None = "url", **fields: object) -> JobRecord:
    request = {"prompt": "p", "size": "auto"} | ({"response_format": response_format} if response_format else {})
    return JobRecord(job_id=new_job_id(), account_id=new_account_id(), kind="generation", status=status,
                     model="gpt-image-2", request=request, created_at=100, expires_at=200, **fields)


def with_output(store: FakeObjectStore, record: JobRecord) -> JobRecord:
    key = f"outputs/{record.account_id}/{record.job_id}/0.png"
    store.put(key, b"\x89PNG-bytes", "image/png")
    record.outputs = [StoredOutput(key=key, content_type="image/png", bytes=10, width=1024, height=1536)]
    record.result = {"size": "1024x1536", "quality": "medium"}
    return record


def test_succeeded_job_has_presigned_urls_and_resolved_options(store: FakeObjectStore) -> None:
    # Given a succeeded job with one output
    record = with_output(store, job())

    # When it is rendered with a 600 s URL expiry
    view = render_job(record, store, 600)

    # Then it is an ImagesResponse-shaped view with a presigned URL, and `auto` resolved
    [image] = view.data
    assert image.url == f"https://bucket.example/{record.outputs[0].key}?X-Amz-Expires=600&X-Amz-Signature=fake"
    assert image.b64_json is None and (image.width, image.height) == (1024, 1536)
    assert (view.size, view.quality, view.status, view.created) == ("1024x1536", "medium", "succeeded", 100)


def test_b64_json_job_returns_bytes_inline_in_the_answer_that_saw_it_end(store: FakeObjectStore) -> None:
    # Given a succeeded job that asked for b64_json
    record = with_output(store, job(response_format="b64_json"))

    # When the request that submitted it and waited for it renders it
    view = render_job(record, store, 600, ended_in_request=True)

    # Then the image bytes are inline, there is no URL, and the view says b64_json was served
    [image] = view.data
    assert base64.b64decode(image.b64_json) == b"\x89PNG-bytes" and image.url is None
    assert view.response_format_served == "b64_json"


def test_a_later_read_of_a_b64_json_job_answers_urls(store: FakeObjectStore) -> None:
    # Given a succeeded job that asked for b64_json
    record = with_output(store, job(response_format="b64_json"))

    # When it is read later (GET /v1/jobs/{id}), not by the request that saw it end
    view = render_job(record, store, 600)

    # Then it is a presigned URL, no base64, and the view says url was served (OpenAI clients read `url`)
    [image] = view.data
    assert image.b64_json is None and image.url is not None
    assert view.response_format_served == "url"
    assert "b64_json" not in view.model_dump(exclude_none=True)["data"][0]


@pytest.mark.parametrize(("response_format", "ended_in_request", "inline"), [
    pytest.param(None, True, True, id="unset-ended-within-the-request-b64"),
    pytest.param(None, False, False, id="unset-read-later-url"),
    pytest.param("url", True, False, id="url-asked-url"),
    pytest.param("b64_json", True, True, id="b64-asked-ended-within-the-request-b64"),
    pytest.param("b64_json", False, False, id="b64-asked-read-later-url"),
])
def test_with_no_response_format_a_job_that_ended_within_its_request_comes_back_inline(
        store: FakeObjectStore, response_format: str | None, ended_in_request: bool, inline: bool) -> None:
    # Given a succeeded job submitted with or without a response_format
    record = with_output(store, job(response_format=response_format))

    # When it is rendered for the request that waited for it, or for a later read
    [image] = render_job(record, store, 600, ended_in_request=ended_in_request).data

    # Then base64 comes only in the answer that saw the job end, when b64_json or nothing (OpenAI's default) was asked
    assert (image.b64_json is not None, image.url is None) == (inline, inline)


def test_the_b64_default_links_what_does_not_fit_a_lambda_response(store: FakeObjectStore) -> None:
    # Given a job with no response_format and two outputs of 3 MB each (base64: 4 MB each)
    record = job(response_format=None)
    for index in range(2):
        key = f"outputs/{record.job_id}/t-{index}.png"
        store.put(key, b"x" * 3_000_000, "image/png")
        record.outputs.append(StoredOutput(key=key, content_type="image/png", bytes=3_000_000, width=1024,
                                           height=1024))

    # When the request that waited for it renders it
    data = render_job(record, store, 600, ended_in_request=True).data

    # Then the first is inline and the second, past the response limit, a URL
    assert [(d.b64_json is not None, d.url is not None) for d in data] == [(True, False), (False, True)]


def test_b64_json_inlines_only_what_fits_a_lambda_response_and_links_the_rest(store: FakeObjectStore) -> None:
    # Given a b64_json job with three outputs of 2 MB each (base64: ~2.7 MB each, over 6 MB together)
    record = job(response_format="b64_json")
    for index in range(3):
        key = f"outputs/{record.account_id}/{record.job_id}/{index}.png"
        store.put(key, b"x" * 2_000_000, "image/png")
        record.outputs.append(StoredOutput(key=key, content_type="image/png", bytes=2_000_000, width=1024,
                                           height=1024))

    # When the request that saw it end renders it
    data = render_job(record, store, 600, ended_in_request=True).data

    # Then the first outputs are inline within the budget and the rest are presigned URLs
    inline = [d for d in data if d.b64_json]
    assert len(inline) == 1 and sum(len(d.b64_json) for d in inline) <= INLINE_BASE64_BUDGET
    assert [d.url is not None for d in data] == [False, True, True]


def test_b64_json_job_whose_outputs_expired_is_410(store: FakeObjectStore) -> None:
    # Given a b64_json job whose output the bucket's lifecycle rule already removed
    record = with_output(store, job(response_format="b64_json"))
    store.delete([record.outputs[0].key])

    # When the request that saw it end renders it, Then the client is told the outputs are gone
    with pytest.raises(OutputsExpired) as gone:
        render_job(record, store, 600, ended_in_request=True)
    assert gone.value.status_code == 410


def test_a_malformed_job_id_is_404_without_a_read() -> None:
    # Given an id no job can have (real DynamoDB refuses keys over 2 KB with a ValidationException)
    reads: list[str] = []
    jobs = WatchedJobs(reads.append)

    # When it is looked up, Then it is simply not found
    with pytest.raises(JobNotFound):
        find_job(jobs, new_account_id(), "job_" + "a" * 4000)
    assert reads == []


@pytest.mark.parametrize("status", ["queued", "running"])
def test_unfinished_job_has_no_data_and_no_error(status: str, store: FakeObjectStore) -> None:
    # Given a job retried once (it carries the last transient error) and not finished yet
    record = job(status=status, error=JobError(code="provider_error", message="HTTP 500"))

    # When it is rendered
    view = render_job(record, store, 600)

    # Then it shows no images and no error (the error only shows once the job failed)
    assert view.data == [] and view.error is None and view.size == "auto"


def test_failed_job_shows_its_error(store: FakeObjectStore) -> None:
    record = job(status="failed", error=JobError(code="moderation_blocked", message="no"))
    view = render_job(record, store, 600)
    assert view.error is not None and view.error.code == "moderation_blocked" and view.data == []


def test_owner_finds_the_job_and_others_get_404() -> None:
    # Given a job of one account
    jobs = FakeJobRepository()
    record = job()
    jobs.put(record)

    # When its owner, another account, and anyone asking for an unknown id look it up
    found = find_job(jobs, record.account_id, record.job_id)
    with pytest.raises(JobNotFound) as other:
        find_job(jobs, new_account_id(), record.job_id)
    with pytest.raises(JobNotFound) as unknown:
        find_job(jobs, record.account_id, new_job_id())

    # Then only the owner sees it; the two misses are indistinguishable 404 job_not_found
    assert found.job_id == record.job_id
    assert (other.value.status_code, other.value.code, other.value.param) == (404, "job_not_found", "job_id")
    assert (unknown.value.status_code, unknown.value.code) == (404, "job_not_found")


class WatchedJobs(FakeJobRepository):
    """Jobs that call `before_read(job_id)` before each read (to count the reads, or end the job meanwhile)."""

    def __init__(self, before_read: Callable[[str], None]) -> None:
        super().__init__()
        self.before_read = before_read

    def get(self, job_id: str) -> JobRecord | None:
        self.before_read(job_id)
        return super().get(job_id)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_wait_returns_as_soon_as_the_job_ends() -> None:
    # Given a queued job that finishes after the third poll
    polls = {"n": 0}

    def before_read(job_id: str) -> None:
        polls["n"] += 1
        if polls["n"] == 3:
            jobs.set(job_id, status="succeeded")

    jobs, clock = WatchedJobs(before_read), Clock()
    record = job(status="queued")
    jobs.put(record)

    # When a client waits up to 10 s
    final = wait_for_job(jobs, record, 10, sleep=clock.sleep, clock=clock)

    # Then the wait ends at the third poll, with intervals growing to at most a quarter second
    assert final.status == "succeeded" and polls["n"] == 3
    assert clock.sleeps == pytest.approx([0.1, 0.15, 0.225])


def test_wait_gives_up_at_the_deadline() -> None:
    # Given a job that never ends
    jobs, clock = FakeJobRepository(), Clock()
    record = job(status="running")
    jobs.put(record)

    # When a client waits 2 s
    final = wait_for_job(jobs, record, 2, sleep=clock.sleep, clock=clock)

    # Then it returns the unfinished job after exactly the wait, intervals capped at a quarter second
    assert final.status == "running"
    assert sum(clock.sleeps) == pytest.approx(2) and max(clock.sleeps) <= 0.25


def test_wait_zero_does_not_poll() -> None:
    jobs, clock = FakeJobRepository(), Clock()
    record = job(status="queued")
    assert wait_for_job(jobs, record, 0, sleep=clock.sleep, clock=clock) is record
    assert clock.sleeps == []


def ending_at(clock: Clock, seconds: float, status: str = "succeeded") -> tuple[WatchedJobs, list[float]]:
    """Jobs whose job ends `seconds` into the wait, and the times (on `clock`) at which it is read."""
    reads: list[float] = []

    def before_read(job_id: str) -> None:
        reads.append(clock.now)
        if clock.now >= seconds:
            jobs.set(job_id, status=status)

    jobs = WatchedJobs(before_read)
    return jobs, reads


def held(history: WaitHistory, ends_after: float, status: str = "succeeded",
         timeout: float = 25) -> tuple[JobRecord, list[float], Clock]:
    """One `Prefer: wait` hold of a fresh job (all of one kind) that ends `ends_after` seconds in."""
    clock = Clock()
    jobs, reads = ending_at(clock, ends_after, status)
    record = job(status="queued")
    jobs.put(record)
    final = wait_for_job(jobs, record, timeout, history=history, sleep=clock.sleep, clock=clock)
    return final, reads, clock


def test_a_wait_with_history_reads_less_and_notices_the_end_sooner() -> None:
    # Given an environment that held one job of this kind, which ended 20 s in (learned on the default schedule)
    history = WaitHistory(clock=lambda: 0.0)  # no duration ages out mid-test
    _, first_reads, first = held(history, 20.0)
    assert history.expected_seconds(job()) == pytest.approx(first.now)

    # When the next job of the same kind ends 20.03 s in
    final, reads, clock = held(history, 20.03)

    # Then it is seen ending within a fine interval, after about one read a second until just before 20 s
    assert final.status == "succeeded"
    assert clock.now - 20.03 <= NEAR_POLL_SECONDS + 1e-9 < first.now - 20.0
    assert len(reads) < len(first_reads) / 2
    assert max(clock.sleeps) <= 1.0


@pytest.mark.parametrize("early", [0.3, 0.7, 1.5, 4.0])
def test_a_job_ending_sooner_than_its_kind_did_is_seen_within_half_its_lead_or_a_quarter_second(early: float) -> None:
    # Given an environment whose last job of this kind ended 20 s in
    history = WaitHistory(clock=lambda: 0.0)  # no duration ages out mid-test
    held(history, 20.0)
    expected = history.expected_seconds(job())
    assert expected is not None

    # When this one ends `early` seconds before that
    final, reads, clock = held(history, expected - early)

    # Then the wait sees it within half the time it was early, or a quarter second (not at the next whole second),
    # reading no more than once a second while the end is far
    assert final.status == "succeeded"
    assert clock.now - (expected - early) <= max(MAX_POLL_SECONDS, early / 2) + 1e-9
    assert len(reads) <= 20 + 6
    assert max(clock.sleeps) <= 1.0


def test_a_duration_older_than_a_minute_is_forgotten_so_a_quiet_environment_reads_on_the_fine_schedule() -> None:
    # Given an environment that saw a burst's job of this kind take 4.5 s, over a minute ago
    now = {"t": 0.0}
    history = WaitHistory(clock=lambda: now["t"])
    history.observe(job(), 4.5)
    now["t"] = HISTORY_MAX_AGE_SECONDS - 1
    assert history.expected_seconds(job()) == 4.5
    now["t"] = HISTORY_MAX_AGE_SECONDS + 1

    # When a job of that kind now ends 2.5 s in
    final, _, clock = held(history, 2.5)

    # Then the old duration no longer spaces the reads a second apart: the end is seen within a quarter second
    assert final.status == "succeeded"
    assert clock.now - 2.5 <= MAX_POLL_SECONDS + 1e-9
    assert history.expected_seconds(job()) == pytest.approx(clock.now)


def test_history_is_per_kind_of_job_and_learns_only_from_jobs_it_saw_succeed() -> None:
    history = WaitHistory(clock=lambda: 0.0)  # no duration ages out mid-test
    # A failed job teaches nothing, nor does a job already ended when the wait began
    held(history, 3.0, status="failed")
    ended = job(status="succeeded")
    wait_for_job(FakeJobRepository(), ended, 25, history=history, sleep=Clock().sleep, clock=Clock())
    assert history.expected_seconds(ended) is None

    # A succeeded one does, for its kind only
    held(history, 3.0)
    assert history.expected_seconds(ended) == pytest.approx(3.0, abs=MAX_POLL_SECONDS)
    other = job()
    other.request["quality"] = "high"
    assert history.expected_seconds(other) is None


def test_a_job_running_late_is_read_at_most_every_quarter_second_until_the_deadline() -> None:
    # Given an environment whose last job of this kind took 2 s
    history = WaitHistory(clock=lambda: 0.0)  # no duration ages out mid-test
    held(history, 2.0)

    # When this one never ends
    final, _, clock = held(history, 1_000.0, timeout=10)

    # Then the wait ends at its deadline, reading at most every quarter second after the expected end
    assert final.status == "queued"
    assert sum(clock.sleeps) == pytest.approx(10)
    late = [s for s, t in zip(clock.sleeps, accumulate(clock.sleeps), strict=True) if t > 2.5]
    assert late and max(late) <= MAX_POLL_SECONDS


def _output(*, has_alpha: bool | None) -> StoredOutput:
    return StoredOutput(key="outputs/j/t-0.png", content_type="image/png", bytes=10, width=8, height=8,
                        has_alpha=has_alpha)


@pytest.mark.parametrize(("said", "asked", "has_alpha", "settled"), [
    pytest.param("transparent", "opaque", False, "transparent", id="the-upstream-says"),
    pytest.param(None, "opaque", True, "opaque", id="asked-opaque-rgba-output-upstream-silent"),
    pytest.param("auto", "auto", True, "transparent", id="auto-with-alpha"),
    pytest.param(None, None, False, "opaque", id="unsaid-without-alpha"),
    pytest.param("auto", "auto", None, None, id="unknown-stays-unsaid"),
])
def test_the_background_is_settled_as_openai_answers_it_never_auto(said: str | None, asked: str | None,
                                                                   has_alpha: bool | None,
                                                                   settled: str | None) -> None:
    # Given an upstream's answer saying (or not) which background it drew, what the request asked, and the stored
    # image's alpha channel
    result = ProviderResult(images=[], background=said)
    # When the job's resolved options are taken
    resolved = resolved_options(result, [_output(has_alpha=has_alpha)], asked)
    # Then the background is transparent or opaque, as OpenAI answers it, or left out when unknown
    assert resolved.get("background") == settled


def test_a_job_asked_for_auto_with_no_settled_background_answers_none_not_auto(store: FakeObjectStore) -> None:
    # Given a succeeded job that asked for background=auto and whose result settled none (stored before it was kept)
    record = with_output(store, job())
    record.request["background"] = "auto"
    # When it is rendered, its ImagesResponse has no background rather than `auto` (OpenAI's SDK types it
    # transparent | opaque)
    assert render_job(record, store, 600).background is None
