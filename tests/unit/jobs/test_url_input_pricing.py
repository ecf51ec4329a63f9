"""An input sent by URL is charged, when the upstream reports no input tokens, at the size the worker fetched, as the
same image sent as a file is: the hold took the bound an image of unknown size can reach, the charge does not."""

from __future__ import annotations

from dataclasses import replace

from retouch.jobs.process import run_job
from retouch.models.records import StoredInput
from tests.builders import png, queued_job
from tests.fakes import FakeJobRepository, FakeObjectStore, FakeUrls, ScriptedProvider, rendered
from tests.fakes.wiring import Build


def test_a_url_input_is_charged_at_its_fetched_size_like_the_same_file(
        jobs: FakeJobRepository, store: FakeObjectStore, worker_deps: Build) -> None:
    # Given the same 64x64 photo in two edits: one stored at submit (its size known then), one by URL (unknown)
    photo = png(64, 64)
    store.put("inputs/acct/job/image_0.png", photo, "image/png")
    by_file = queued_job(jobs, kind="edit", inputs=[StoredInput(key="inputs/acct/job/image_0.png",
                                                                content_type="image/png", width=64, height=64)])
    by_url = queued_job(jobs, kind="edit", inputs=[StoredInput(url="https://photos.example/p.png")])
    deps = replace(worker_deps(ScriptedProvider(rendered(), rendered())),
                   fetch_url=FakeUrls({"https://photos.example/p.png": photo}))

    # When both run on an upstream that reports no input tokens
    assert [run_job(job.job_id, deps) for job in (by_file, by_url)] == ["succeeded", "succeeded"]

    # Then both are charged the same, on the estimate of a 64x64 input (not the 8,369 tokens of the largest image)
    charged = [jobs.items[job.job_id]["usage"] for job in (by_file, by_url)]
    assert [usage["pricing"]["input_basis"] for usage in charged] == ["estimate", "estimate"]
    assert charged[0]["pricing"]["input_image_tokens"] == charged[1]["pricing"]["input_image_tokens"] < 8_369
    assert charged[0]["cost_micros"] == charged[1]["cost_micros"]
