"""A job's events (jobs/event_stream.py): ids fixed by its history, followed while it runs, resumed after an id."""

from __future__ import annotations

from retouch.jobs.event_stream import JobReader, follow, parse_last_event_id, story
from retouch.models.records import JobRecord
from retouch.ports import PartialFrame
from tests.fakes import FakeJobPartials, FakeJobRepository, job


def frame(index: int) -> PartialFrame:
    return PartialFrame(index=index, key=f"outputs/j/partials/{index}-x.png", output_format="png", at=10 + index)


def test_the_story_numbers_status_partials_and_the_end_in_order() -> None:
    running = job(status="running", started_at=1_700_000_001)
    ended = running.model_copy(update={"status": "succeeded"})
    assert [(e.id, e.kind) for e in story(job(), [])] == [(0, "job.queued")]
    assert [(e.id, e.kind) for e in story(running, [frame(0)])] == [(0, "job.queued"), (1, "job.running"),
                                                                     (2, "job.partial_image")]
    assert [(e.id, e.kind) for e in story(ended, [frame(0), frame(1)])][-1] == (4, "job.succeeded")
    # a job canceled while queued never ran: its end still comes after every id the running story could have had
    canceled = job(status="canceled")
    assert [(e.id, e.kind) for e in story(canceled, [])] == [(0, "job.queued"), (2, "job.canceled")]


class Timeline:
    """A job that moves on each time the follower sleeps: running, a partial, another, then succeeded."""

    def __init__(self, jobs: FakeJobRepository, partials: FakeJobPartials, record: JobRecord) -> None:
        self.jobs, self.partials, self.record, self.step, self.now = jobs, partials, record, 0, 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.step += 1
        job_id = self.record.job_id
        if self.step == 1:
            self.jobs.put(self.record.model_copy(update={"status": "running", "started_at": 1_700_000_001}))
        elif self.step in (2, 3):
            self.partials.add(job_id, frame(self.step - 2), expires_at=0)
        elif self.step == 4:
            self.jobs.put(self.record.model_copy(update={"status": "succeeded", "started_at": 1_700_000_001}))

    def clock(self) -> float:
        return self.now


def followed(after: int, seconds: float = 60.0) -> tuple[list[tuple[int, str]], Timeline]:
    jobs, partials = FakeJobRepository(), FakeJobPartials()
    record = job()
    jobs.put(record)
    timeline = Timeline(jobs, partials, record)
    events = follow(JobReader(jobs, partials), record, after=after, seconds=seconds, sleep=timeline.sleep,
                    clock=timeline.clock)
    return [(event.id, event.kind) for event in events], timeline


def test_following_a_job_gives_each_event_once_as_it_happens_and_ends_after_the_terminal_one() -> None:
    events, _ = followed(after=-1)
    assert events == [(0, "job.queued"), (1, "job.running"), (2, "job.partial_image"), (3, "job.partial_image"),
                      (4, "job.succeeded")]


def test_resuming_after_an_id_gives_only_the_later_events() -> None:
    events, _ = followed(after=2)
    assert events == [(3, "job.partial_image"), (4, "job.succeeded")]


def test_a_follow_ends_when_its_time_is_up_even_if_the_job_has_not() -> None:
    events, timeline = followed(after=-1, seconds=0.15)
    assert events[-1][1] != "job.succeeded" and timeline.now <= 0.15 + 1e-9


def test_last_event_id_is_read_leniently() -> None:
    assert [parse_last_event_id(v) for v in (None, "", "abc", " 3 ", "12")] == [-1, -1, -1, 3, 12]


def test_a_last_event_id_no_stream_gave_starts_from_the_beginning_never_an_error() -> None:
    # Unicode digits int() refuses, and a header too long for int() (Python's 4,300-digit limit): from the start
    assert [parse_last_event_id(v) for v in ("²", "¹²", "9" * 5000)] == [-1, -1, -1]
