"""The job's partial images in memory, as data/job_partials.py keeps them (one per index, written only if absent)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from retouch.ports import PartialFrame

if TYPE_CHECKING:
    from retouch import ports


class FakeJobPartials:
    def __init__(self) -> None:
        self.frames_by_job: dict[str, dict[int, PartialFrame]] = {}

    def add(self, job_id: str, frame: PartialFrame, *, expires_at: int) -> bool:
        frames = self.frames_by_job.setdefault(job_id, {})
        if frame.index in frames:
            return False
        frames[frame.index] = frame
        return True

    def frames(self, job_id: str) -> list[PartialFrame]:
        return [frame for _, frame in sorted(self.frames_by_job.get(job_id, {}).items())]


if TYPE_CHECKING:  # mypy checks the fake against its port
    _partials: ports.JobPartials = FakeJobPartials()
