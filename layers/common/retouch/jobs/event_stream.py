"""A job's story as an ordered list of events, followed while it runs: what both streaming answers are made of (the
OpenAI image stream of `stream=true`, web/image_stream.py, and `GET /v1/jobs/{id}/events`, web/job_event_stream.py).

The events are derived, not stored one by one: from the job item (its status) and the partial images recorded
beside it (jobs/partial_frames.py). Their ids are fixed by the job's history, so a client that resumes with
`Last-Event-ID` gets every later event exactly once, whichever function instance serves it:

    0 job.queued · 1 job.running · 2+i job.partial_image (frame i) · 2+frames job.<terminal status>

The job item is read before its frames: the worker records every frame before it ends the job, so a terminal
record read first means the frames read next are all there (no frame can be numbered after the terminal event). A
job put back to `queued` for a retry has already been seen running; its story does not go back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from retouch.models.records import JobRecord
from retouch.ports import JobPartials, JobRepository, PartialFrame

QUEUED_ID = 0
RUNNING_ID = 1
FIRST_PARTIAL_ID = 2
# Reads while following a job: one GetItem and one Query per read, sooner at first (a fast job), then each second
# at most (a job takes a minute or more; a partial is seen within a second of its arrival).
FIRST_READ_SECONDS = 0.1
MAX_READ_SECONDS = 0.5


@dataclass(frozen=True)
class JobEvent:
    id: int
    kind: str  # job.queued, job.running, job.partial_image, job.succeeded, job.failed, job.canceled
    record: JobRecord  # the job as read when the event was found
    frame: PartialFrame | None = None  # job.partial_image's


def story(record: JobRecord, frames: list[PartialFrame]) -> list[JobEvent]:
    """Every event the job has had so far, in order."""
    events = [JobEvent(QUEUED_ID, "job.queued", record)]
    if record.started_at is not None or record.status == "running":
        events.append(JobEvent(RUNNING_ID, "job.running", record))
    events.extend(JobEvent(FIRST_PARTIAL_ID + frame.index, "job.partial_image", record, frame)
                  for frame in sorted(frames, key=lambda frame: frame.index))
    if record.is_terminal:
        after = max((frame.index + 1 for frame in frames), default=0)
        events.append(JobEvent(FIRST_PARTIAL_ID + after, f"job.{record.status}", record))
    return events


# The longest id this stream gives, in digits (far more than any job's events).
_MAX_ID_DIGITS = 9


def parse_last_event_id(value: str | None) -> int:
    """`Last-Event-ID` as sent back: an id this stream gave, else -1 (from the start). Only ASCII digits, and few of
    them: `isdigit` also takes characters int() refuses (`²`), and int() refuses over 4,300 digits (a 500 either
    way, from a header the client writes)."""
    text = (value or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > _MAX_ID_DIGITS:
        return -1
    return int(text)


@dataclass(frozen=True)
class JobReader:
    jobs: JobRepository
    partials: JobPartials


def follow(reader: JobReader, record: JobRecord, *, after: int, seconds: float,
           sleep: Callable[[float], None] = time.sleep,
           clock: Callable[[], float] = time.monotonic) -> Iterator[JobEvent]:
    """The job's events with an id above `after`, as they happen, until its terminal event or `seconds` pass (the
    caller then tells the client how to resume). `record` is the job as the caller found it (checked as the
    caller's)."""
    deadline = clock() + seconds
    interval = FIRST_READ_SECONDS
    last = after
    while True:
        frames = reader.partials.frames(record.job_id) if record.status != "queued" or record.started_at else []
        for event in story(record, frames):
            if event.id > last:
                last = event.id
                yield event
        if record.is_terminal or clock() >= deadline:
            return
        sleep(min(interval, max(0.0, deadline - clock())))
        interval = min(interval * 1.5, MAX_READ_SECONDS)
        record = reader.jobs.get(record.job_id) or record
