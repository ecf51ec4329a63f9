"""An input sent by URL is charged, when the upstream reports no input tokens, at the size the worker fetched, as the
same image sent as a file is: the hold took the bound an image of unknown size can reach, the charge does not."""

from __future__ import annotations

from dataclasses import replace

import pytest

from retouch.jobs.process import run_job
from retouch.models.records import JobRecord, StoredInput
from tests.builders import png, queued_job
from tests.fakes import FakeJobRepository, FakeObjectStore, FakeUrls, ScriptedProvider, rendered
from tests.fakes.wiring import Build


def same_photo_by_file_and_by_url(jobs: FakeJobRepository,
                                  store: FakeObjectStore) -> tuple[bytes, JobRecord, JobRecord]:
    """A 64x64 photo, and two queued edits of it: one stored at submit (its size known then), one by URL."""
    photo = png(64, 64)
    store.put("inputs/acct/job/image_0.png", photo, "image/png")
    by_file = queued_job(jobs, kind="edit", inputs=[StoredInput(key="inputs/acct/job/image_0.png",
                                                                content_type="image/png", width=64, height=64)])
    by_url = queued_job(jobs, kind="edit", inputs=[StoredInput(url="https://photos.example/p.png")])
    return photo, by_file, by_url


def test_a_url_input_is_charged_at_its_fetched_size_like_the_same_file(
        jobs: FakeJobRepository, store: FakeObjectStore, worker_deps: Build) -> None:
    # Given the same 64x64 photo in two edits: one stored at submit (its size known then), one by URL (unknown)
    photo, by_file, by_url = same_photo_by_file_and_by_url(jobs, store)
    deps = replace(worker_deps(ScriptedProvider(rendered(), rendered())),
                   fetch_url=FakeUrls({"https://photos.example/p.png": photo}))

    # When both run on an upstream that reports no input tokens
    assert [run_job(job.job_id, deps) for job in (by_file, by_url)] == ["succeeded", "succeeded"]

    # Then both are charged the same, on the estimate of a 64x64 input (not the 8,369 tokens of the largest image)
    charged = [jobs.items[job.job_id]["usage"] for job in (by_file, by_url)]
    assert [usage["pricing"]["input_basis"] for usage in charged] == ["estimate", "estimate"]
    assert charged[0]["pricing"]["input_image_tokens"] == charged[1]["pricing"]["input_image_tokens"] < 8_369
    assert charged[0]["cost_micros"] == charged[1]["cost_micros"]


def test_a_delivery_that_ends_the_job_without_fetching_prices_the_url_input_as_measured(
        jobs: FakeJobRepository, store: FakeObjectStore, worker_deps: Build) -> None:
    # Given an edit by URL whose first worker dies after checkpointing its outputs, before ending the job
    photo, by_file, by_url = same_photo_by_file_and_by_url(jobs, store)
    healthy = replace(worker_deps(ScriptedProvider(rendered(), rendered())),
                      fetch_url=FakeUrls({"https://photos.example/p.png": photo}))
    assert run_job(by_file.job_id, healthy) == "succeeded"

    class DiesBeforeTheEnd(type(healthy.billing)):  # type: ignore[misc]
        def finish(self, *args: object, **kwargs: object) -> bool:
            raise SystemExit("worker killed after its checkpoint")

    dying = replace(healthy, billing=DiesBeforeTheEnd(**{f: getattr(healthy.billing, f) for f in
                                                         ("ledger", "jobs", "prices", "end_users", "watch")}))
    with pytest.raises(SystemExit):
        run_job(by_url.job_id, dying)
    assert jobs.items[by_url.job_id]["inputs"][0]["width"] == 64  # measured, and kept on the job

    # When its lease ends and another delivery (which fetches nothing: the outputs are checkpointed) ends it
    jobs.set(by_url.job_id, lease_until=0)

    def no_fetch(url: str, seconds: float) -> bytes:
        raise AssertionError("a resumed job fetches nothing")

    assert run_job(by_url.job_id, replace(healthy, fetch_url=no_fetch)) == "succeeded"

    # Then it is charged as the same photo sent as a file
    charged = [jobs.items[job.job_id]["usage"] for job in (by_file, by_url)]
    assert charged[0]["pricing"]["input_image_tokens"] == charged[1]["pricing"]["input_image_tokens"]
    assert charged[0]["cost_micros"] == charged[1]["cost_micros"]
