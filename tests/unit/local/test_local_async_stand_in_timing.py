"""The async stand-ins' jobs (local/stand_ins/queue.py): done once their delay has passed, with an eta of the time
left, not after a number of polls."""

from __future__ import annotations

from local.stand_ins.queue import JobQueue


def test_a_job_is_done_once_its_delay_has_passed_and_its_eta_counts_down() -> None:
    now = [100.0]
    queue = JobQueue(clock=lambda: now[0])
    job = queue.add("outputs", "j1", ready_after=20.0)
    assert (job.done, job.eta_seconds) == (False, 20)
    now[0] = 112.5
    seen = queue.poll("j1")
    assert seen is not None and (seen.done, seen.eta_seconds) == (False, 8)
    now[0] = 120.0
    seen = queue.poll("j1")
    assert seen is not None and seen.done and seen.outcome == "outputs"


def test_pending_polls_still_hold_a_ready_job_for_tests_that_ask() -> None:
    queue = JobQueue(pending_polls=1, clock=lambda: 0.0)
    queue.add("x", "j", ready_after=0.0)
    first, second = queue.poll("j"), queue.poll("j")
    assert first is not None and second is not None and (first.done, second.done) == (False, True)
