"""Issue #24 (1): a job's input URLs are fetched in parallel under one deadline, so URLs that drip bytes hold a worker
for that deadline, not for one timeout per URL (16 inputs and a mask: 17 x 20 s, about 325 s, before)."""

from __future__ import annotations

import threading
from dataclasses import replace

from retouch.errors import JobFailure
from retouch.jobs.process import run_job
from retouch.models.records import StoredInput
from tests.builders import queued_job
from tests.fakes import FakeJobRepository, ScriptedProvider
from tests.fakes.wiring import Build

INPUTS = 16
BUDGET_SECONDS = 20.0


def test_sixteen_dripping_urls_and_a_mask_are_fetched_at_once_within_one_deadline(
        jobs: FakeJobRepository, worker_deps: Build) -> None:
    # Given an edit of 16 input URLs and a mask URL, each of which drips until its time is up and then fails
    urls = [f"https://drip.example/{index}.png" for index in range(INPUTS)]
    job = queued_job(jobs, kind="edit", inputs=[StoredInput(url=url) for url in urls],
                     mask=StoredInput(url="https://drip.example/mask.png"))
    all_at_once = threading.Barrier(INPUTS + 1, timeout=5)  # passes only if all 17 fetches are in flight together
    given_seconds: list[float] = []

    def dripping(url: str, seconds_left: float) -> bytes:
        given_seconds.append(seconds_left)
        all_at_once.wait()
        raise JobFailure("image_url_timeout", "image URL did not answer in time")

    deps = replace(worker_deps(ScriptedProvider()), fetch_url=dripping, url_fetch_seconds=BUDGET_SECONDS)
    # When the worker runs it
    outcome = run_job(job.job_id, deps)
    # Then all 17 URLs were in flight at once, each within what was left of one 20 s deadline, and the job failed
    # with the inputs' timeout
    assert len(given_seconds) == INPUTS + 1
    assert all(0 < seconds <= BUDGET_SECONDS for seconds in given_seconds)
    record = jobs.get(job.job_id)
    assert outcome == "failed" and record is not None and record.error is not None
    assert record.error.code == "image_url_timeout"
