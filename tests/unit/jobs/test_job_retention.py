"""Deleting an ended job (jobs/retention) on fakes: its images go now, the job stays as a billing record no read
shows; an unfinished job is a 409 and nothing is touched."""

from __future__ import annotations

import pytest

from retouch.errors import JobNotDeletable, JobNotFound
from retouch.jobs.retention import RetentionDeps, delete_job
from retouch.jobs.view import find_job
from retouch.models.records import StoredInput, StoredOutput
from tests.builders import queued_job
from tests.fakes import FakeJobRepository, FakeObjectStore

NOW = 1_800_000_000


def ended_job_with_images(jobs: FakeJobRepository, store: FakeObjectStore, status: str = "succeeded"):
    """Given-state: an ended edit with its input and output stored, plus an output a dead worker left unrecorded."""
    job = queued_job(jobs, kind="edit", metadata={"user": "u-1"})
    input_key = f"inputs/{job.account_id}/{job.job_id}/image_0.png"
    output_key = f"outputs/{job.job_id}/aaaa-0.png"
    for key in (input_key, output_key, f"outputs/{job.job_id}/dead-0.png"):
        store.put(key, b"bytes", "image/png")
    jobs.set(job.job_id, status=status, completed_at=NOW, usage={"images": 1, "cost_micros": 6000},
             reserved_micros=6000,
             inputs=[StoredInput(key=input_key, content_type="image/png", bytes=5).model_dump()],
             outputs=[StoredOutput(key=output_key, content_type="image/png", bytes=5, width=1,
                                   height=1).model_dump()])
    return jobs.get(job.job_id)


@pytest.mark.parametrize("status", ["succeeded", "failed", "canceled"])
def test_an_ended_jobs_images_are_deleted_and_only_its_billing_record_stays(
        jobs: FakeJobRepository, store: FakeObjectStore, status: str) -> None:
    # Given an ended job with its images, and another job's output
    job = ended_job_with_images(jobs, store, status)
    store.put("outputs/job_other/x-0.png", b"other", "image/png")

    # When its owner deletes it
    delete_job(job.account_id, job.job_id, RetentionDeps(jobs=jobs, store=store), NOW)

    # Then its objects are gone (the unrecorded one too), the other job's stays
    assert list(store.objects) == ["outputs/job_other/x-0.png"]
    # And the job item keeps what billing needs, nothing that described the images
    kept = jobs.items[job.job_id]
    assert kept["deleted_at"] == NOW and kept["request"] == {} and "metadata" not in kept
    assert "inputs" not in kept and "outputs" not in kept
    assert (kept["usage"], kept["reserved_micros"], kept["status"]) == ({"images": 1, "cost_micros": 6000}, 6000,
                                                                        status)
    # And to its owner it no longer exists: reading or deleting it again is a 404
    with pytest.raises(JobNotFound):
        find_job(jobs, job.account_id, job.job_id)
    with pytest.raises(JobNotFound):
        delete_job(job.account_id, job.job_id, RetentionDeps(jobs=jobs, store=store), NOW)


@pytest.mark.parametrize("status", ["queued", "running"])
def test_an_unfinished_job_is_a_409_and_nothing_is_deleted(jobs: FakeJobRepository, store: FakeObjectStore,
                                                           status: str) -> None:
    job = queued_job(jobs, kind="edit")
    jobs.set(job.job_id, status=status)
    key = f"inputs/{job.account_id}/{job.job_id}/image_0.png"
    store.put(key, b"bytes", "image/png")

    with pytest.raises(JobNotDeletable) as refused:
        delete_job(job.account_id, job.job_id, RetentionDeps(jobs=jobs, store=store), NOW)

    assert (refused.value.status_code, refused.value.code) == (409, "job_not_deletable")
    assert key in store.objects and "deleted_at" not in jobs.items[job.job_id]
    # and it says what can be done: a queued job may be canceled, a running one cannot (jobs/cancel.py)
    assert ("cancel it" in refused.value.message) == (status == "queued")
    assert "wait for it to end" in refused.value.message


def test_another_accounts_job_is_a_404_and_nothing_is_deleted(jobs: FakeJobRepository,
                                                              store: FakeObjectStore) -> None:
    job = ended_job_with_images(jobs, store)

    deps = RetentionDeps(jobs=jobs, store=store)
    with pytest.raises(JobNotFound):
        delete_job("acct_someoneelse0000000", job.job_id, deps, NOW)

    assert len(store.objects) == 3 and "deleted_at" not in jobs.items[job.job_id]
