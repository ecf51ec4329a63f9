"""An upstream's callback (jobs/upstream_callbacks.py): authenticated, matched to the job's pending call, then the
job's poll message is sent at once; anything else moves nothing."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from retouch.errors import CallbackNotAuthentic, UnknownCallback
from retouch.jobs.upstream_callbacks import CallbackDeps, wake_on_callback
from retouch.models.records import JobRecord, PendingCall
from retouch.providers.fal_webhooks import CallbackNotAuthentic as NotSignedByFal
from retouch.providers.upstream import PollHandle
from tests.fakes import FakeJobRepository, job

JOB_ID = "job_" + "c" * 24


def waiting_job(upstream_job_id: str = "fal-req-1", upstream: str = "fal-primary", seq: int = 3) -> JobRecord:
    handle = PollHandle(upstream="fal", upstream_job_id=upstream_job_id, status_url="https://q/status",
                        result_url="https://q/r", submitted_at=1.0, poll_after_seconds=5)
    return job(job_id=JOB_ID, status="queued", pending_call=PendingCall(
        upstream=upstream, route_index=0, handle=handle.to_json(), seq=seq, submitted_at=1))


def deps_over(record: JobRecord | None, says: str | Exception = "fal-req-1") -> tuple[CallbackDeps, list]:
    jobs = FakeJobRepository()
    if record is not None:
        jobs.put(record)
    woken: list[tuple[str, int]] = []

    def verify(_headers: Mapping[str, str], _body: bytes) -> str:
        if isinstance(says, Exception):
            raise says
        return says

    kinds = {"fal-primary": "fal", "openai": "openai"}
    return CallbackDeps(jobs=jobs, verifiers={"fal": verify}, kind_of=kinds.get,
                        wake=lambda job_id, seq: woken.append((job_id, seq))), woken


def test_an_authentic_callback_for_the_pending_call_sends_its_poll_now() -> None:
    deps, woken = deps_over(waiting_job())
    assert wake_on_callback("fal", JOB_ID, {}, b"{}", deps) is True
    assert woken == [(JOB_ID, 3)]


@pytest.mark.parametrize("record", [
    pytest.param(None, id="no-such-job"),
    pytest.param(waiting_job(upstream_job_id="another-request"), id="another-upstream-job"),
    pytest.param(waiting_job(upstream="openai"), id="pending-elsewhere"),
    pytest.param(job(job_id=JOB_ID, status="succeeded"), id="already-ended"),
])
def test_a_callback_about_nothing_the_job_waits_for_moves_nothing(record: JobRecord | None) -> None:
    deps, woken = deps_over(record)
    assert wake_on_callback("fal", JOB_ID, {}, b"{}", deps) is False
    assert woken == []


def test_an_unauthentic_callback_is_refused_before_the_job_is_read() -> None:
    deps, woken = deps_over(waiting_job(), says=NotSignedByFal("callback_not_authentic", "bad signature"))
    with pytest.raises(CallbackNotAuthentic):
        wake_on_callback("fal", JOB_ID, {}, b"{}", deps)
    assert woken == [] and deps.jobs.reads == 0  # type: ignore[attr-defined]


def test_an_upstream_that_does_not_call_back_is_unknown() -> None:
    deps, _ = deps_over(waiting_job())
    with pytest.raises(UnknownCallback):
        wake_on_callback("modelslab", JOB_ID, {}, b"{}", deps)
