"""Storing an answer's images (jobs/outputs_storing.py): several are put concurrently, in the answer's order, and a
failed put fails the whole store only once every put has ended."""

from __future__ import annotations

from typing import BinaryIO

import pytest

from retouch.jobs.outputs_storing import store_outputs
from tests.builders import queued_job
from tests.fakes import FakeJobRepository, FakeObjectStore, rendered


def test_several_images_keep_the_answers_order(jobs: FakeJobRepository, store: FakeObjectStore) -> None:
    # Given an answer of three images of different sizes
    job = queued_job(jobs)
    result = rendered(n=3)
    result.images[1] = rendered(size="512x512").images[0]
    # When they are stored
    outputs = store_outputs(job, "tok", result, store)
    # Then the outputs are in the answer's order, each stored with its own size
    assert [o.key.rsplit("/", 1)[1] for o in outputs] == ["tok-0.png", "tok-1.png", "tok-2.png"]
    assert [(o.width, o.height) for o in outputs] == [(1024, 1024), (512, 512), (1024, 1024)]
    assert all(store.objects[o.key].data for o in outputs)


def test_a_failed_put_fails_the_store_after_the_other_puts_ended(jobs: FakeJobRepository,
                                                                 store: FakeObjectStore,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a bucket that refuses the second image
    job = queued_job(jobs)
    put = store.put

    def refuse_second(key: str, data: bytes | BinaryIO, content_type: str) -> None:
        if key.endswith("-1.png"):
            raise OSError("S3 refused")
        put(key, data, content_type)

    monkeypatch.setattr(store, "put", refuse_second)
    # When three images are stored, the failure is raised
    with pytest.raises(OSError, match="S3 refused"):
        store_outputs(job, "tok", rendered(n=3), store)
    # And the others were stored (and are found under the job's prefix by the next claim, which deletes them)
    assert sorted(key.rsplit("/", 1)[1] for key in store.objects) == ["tok-0.png", "tok-2.png"]
