"""How the worker calls an upstream that can do more than answer: one that streams partial images gets the job's
`partial_images` and hands each partial to the job (stored, recorded, counted in its usage); one that calls back is
given the job's callback URL. Others are called as usual."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from retouch.jobs.process import WorkerDeps, run_job
from retouch.providers.base import InputImage
from retouch.providers.partials import PartialImage, PartialSink
from retouch.providers.upstream import Outcome
from tests.builders import queued_job
from tests.fakes import FakeJobPartials, FakeJobRepository, FakeObjectStore, rendered
from tests.fakes.routing import FakeClock, ScriptedUpstream

Build = Callable[..., WorkerDeps]


@dataclasses.dataclass
class StreamingUpstream(ScriptedUpstream):
    streams_partials: bool = True
    asked_for: list[int] = dataclasses.field(default_factory=list)

    def submit_streaming(self, *, images: list[InputImage], mask: InputImage | None, options: dict[str, Any],
                         partials: PartialSink) -> Outcome:
        self.asked_for.append(partials.requested)
        for index in range(partials.requested):
            partials(PartialImage(index=index, data=f"preview {index}".encode(), output_format="png"))
        return self.submit(images=images, mask=mask, options=options)


@dataclasses.dataclass
class CallingBackUpstream(ScriptedUpstream):
    callback_urls: list[str] = dataclasses.field(default_factory=list)

    def submit_with_callback(self, *, images: list[InputImage], mask: InputImage | None, options: dict[str, Any],
                             callback_url: str) -> Outcome:
        self.callback_urls.append(callback_url)
        return self.submit(images=images, mask=mask, options=options)


def test_a_streaming_upstream_hands_the_jobs_partials_to_it_and_they_are_counted(
        jobs: FakeJobRepository, store: FakeObjectStore, worker: Build, clock: FakeClock) -> None:
    partials = FakeJobPartials()
    upstream = StreamingUpstream("openai-like", [rendered()], clock=clock)
    deps = dataclasses.replace(worker(upstream), partials=partials)
    job = queued_job(jobs, request={"prompt": "p", "n": 1, "size": "1024x1024", "partial_images": 2})
    assert run_job(job.job_id, deps) == "succeeded"
    assert upstream.asked_for == [2]
    frames = partials.frames(job.job_id)
    assert [store.get(frame.key) for frame in frames] == [b"preview 0", b"preview 1"]
    done = jobs.get(job.job_id)
    assert done is not None and done.usage is not None and done.usage["partial_images"] == 2


def test_a_job_without_partial_images_is_not_streamed(jobs: FakeJobRepository, worker: Build,
                                                      clock: FakeClock) -> None:
    upstream = StreamingUpstream("openai-like", [rendered()], clock=clock)
    deps = dataclasses.replace(worker(upstream), partials=FakeJobPartials())
    job = queued_job(jobs)
    assert run_job(job.job_id, deps) == "succeeded"
    assert upstream.asked_for == [] and upstream.calls == ["submit"]


def test_an_upstream_that_calls_back_is_given_the_jobs_callback_url(jobs: FakeJobRepository, worker: Build,
                                                                  clock: FakeClock) -> None:
    upstream = CallingBackUpstream("fal-like", [30], clock=clock)
    deps = worker(upstream)
    deps = dataclasses.replace(deps, routing=dataclasses.replace(deps.routing,
                                                                 callback_base_url="https://api.example/"))
    job = queued_job(jobs)
    assert run_job(job.job_id, deps) == "waiting"
    assert upstream.callback_urls == [f"https://api.example/v1/upstream-callbacks/{upstream.capabilities.upstream}/"
                                      f"{job.job_id}"]
