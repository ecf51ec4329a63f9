"""The worker's partial-image sink (jobs/partial_frames.py): stored, recorded once per index, bounded."""

from __future__ import annotations

from retouch.jobs.partial_frames import PartialFrames, requested_partials
from retouch.providers.partials import PartialImage
from tests.fakes import FakeJobPartials, FakeObjectStore, job


def test_each_partial_is_stored_under_the_jobs_partials_prefix_and_recorded_in_order() -> None:
    store, partials = FakeObjectStore(), FakeJobPartials()
    record = job(request={"n": 1, "partial_images": 2})
    sink = PartialFrames(record, store, partials, clock=lambda: 1_700_000_050)
    sink(PartialImage(index=0, data=b"first", output_format="png"))
    sink(PartialImage(index=1, data=b"second", output_format="webp"))
    sink(PartialImage(index=2, data=b"beyond what was asked", output_format="png"))
    frames = partials.frames(record.job_id)
    assert [(f.index, f.output_format, f.at) for f in frames] == [(0, "png", 1_700_000_050), (1, "webp", 1_700_000_050)]
    assert all(f.key.startswith(f"outputs/{record.job_id}/partials/") for f in frames)
    assert [store.get(f.key) for f in frames] == [b"first", b"second"]
    assert store.objects[frames[1].key].content_type == "image/webp"
    assert sink.received == 3 and len(store.objects) == 2  # the upstream sent (and bills) three; two were asked for


def test_a_later_run_keeps_the_frames_already_recorded_and_deletes_its_own_copy() -> None:
    store, partials = FakeObjectStore(), FakeJobPartials()
    record = job(request={"partial_images": 1})
    PartialFrames(record, store, partials)(PartialImage(index=0, data=b"run one", output_format="png"))
    PartialFrames(record, store, partials)(PartialImage(index=0, data=b"run two", output_format="png"))
    [kept] = partials.frames(record.job_id)
    assert store.get(kept.key) == b"run one" and len(store.objects) == 1


def test_only_a_whole_number_asks_for_partials() -> None:
    assert [requested_partials(job(request={"partial_images": v})) for v in (2, 0, True, "2")] == [2, 0, 0, 0]
    assert requested_partials(job(request={})) == 0
