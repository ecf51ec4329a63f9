"""The sweeper on fakes: stranded jobs are queued again or ended; live ones are left alone."""

from __future__ import annotations

from typing import Any

from retouch.errors import QueueUnavailable
from retouch.jobs.sweep import SweeperDeps, SweepPolicy, sweep
from tests.builders import queued_job as _queued_job
from tests.fakes import FakeJobQueue, FakeJobRepository, FakeObjectStore, billing_over

NOW = 1_800_000_000
POLICY = SweepPolicy(stall_grace_seconds=300, give_up_seconds=7200)


def queued_job(jobs: FakeJobRepository, *, created_at: int) -> Any:
    """Given-state: a job submitted at `created_at`, watched from then (as the repository writes a new job)."""
    job = _queued_job(jobs)
    jobs.set(job.job_id, created_at=created_at, watch_at=created_at)
    return jobs.get(job.job_id)


def deps_for(jobs: FakeJobRepository, queue: FakeJobQueue, announced: list[str],
             store: FakeObjectStore | None = None) -> SweeperDeps:
    return SweeperDeps(jobs=jobs, queue=queue, billing=billing_over(jobs),
                       announce=announced.append, store=store or FakeObjectStore(), policy=POLICY)


def test_a_queued_job_without_a_message_is_queued_again_once_per_grace(jobs: FakeJobRepository,
                                                                       queue: FakeJobQueue):
    # Given a job queued 10 minutes ago that no worker ever received, and one queued a minute ago
    stranded = queued_job(jobs, created_at=NOW - 600)
    fresh = queued_job(jobs, created_at=NOW - 60)
    deps = deps_for(jobs, queue, [])

    # When the sweeper runs, and again a minute later
    first = sweep(deps, NOW)
    second = sweep(deps, NOW + 60)

    # Then the stranded job was queued again once, the fresh one left alone
    assert first.requeued == [stranded.job_id] and second.requeued == []
    assert queue.sent == [stranded.job_id]
    assert jobs.get(fresh.job_id).status == "queued"


def test_a_running_job_whose_lease_ran_out_long_ago_is_queued_again(jobs: FakeJobRepository, queue: FakeJobQueue):
    # Given a job whose worker died 10 minutes ago, and one a live worker holds
    dead = queued_job(jobs, created_at=NOW - 900)
    jobs.set(dead.job_id, status="running", claim_token="dead", lease_until=NOW - 600, watch_at=NOW - 600)
    live = queued_job(jobs, created_at=NOW - 900)
    jobs.set(live.job_id, status="running", claim_token="live", lease_until=NOW + 60, watch_at=NOW + 60)

    # When the sweeper runs
    report = sweep(deps_for(jobs, queue, []), NOW)

    # Then only the dead worker's job gets a new message (its next claim takes the expired lease over)
    assert report.requeued == [dead.job_id] and queue.sent == [dead.job_id]
    assert jobs.get(live.job_id).claim_token == "live"


def test_a_stranded_job_past_the_give_up_age_ends_failed_with_its_event_and_no_outputs(jobs: FakeJobRepository,
                                                                                        queue: FakeJobQueue):
    # Given a job created three hours ago and stranded since, with an output its dead worker had stored
    old = queued_job(jobs, created_at=NOW - 3 * 3600)
    store = FakeObjectStore()
    store.put(f"outputs/{old.job_id}/dead-0.png", b"orphan", "image/png")
    store.put("outputs/job_other/x-0.png", b"another job's", "image/png")
    announced: list[str] = []

    # When the sweeper runs
    report = sweep(deps_for(jobs, queue, announced, store), NOW)

    # Then it is ended (its hold released) with a code, its event announced, and not queued again
    ended = jobs.get(old.job_id)
    assert report.ended == [old.job_id] and queue.sent == []
    assert ended.status == "failed" and ended.error.code == "job_stalled"
    assert announced == [old.job_id]
    # And the outputs its workers left are deleted (a failed job shows none); other jobs' stay
    assert list(store.objects) == ["outputs/job_other/x-0.png"]


def test_a_job_that_moved_on_between_the_read_and_the_write_is_skipped(jobs: FakeJobRepository,
                                                                      queue: FakeJobQueue):
    # Given a stranded job that a worker claims just after the sweeper read it
    job = queued_job(jobs, created_at=NOW - 600)

    class ClaimedMeanwhile(FakeJobRepository):
        def rewatch(self, job_id: str, *, seen_watch_at: int, watch_at: int) -> bool:
            jobs.claim(job_id, token="w", now=NOW, lease_until=NOW + 120)
            return jobs.rewatch(job_id, seen_watch_at=seen_watch_at, watch_at=watch_at)

        def due_for_sweep(self, **kwargs: Any) -> Any:
            return jobs.due_for_sweep(**kwargs)

        def get(self, job_id: str) -> Any:
            return jobs.get(job_id)

    deps = SweeperDeps(jobs=ClaimedMeanwhile(), queue=queue, billing=billing_over(jobs),
                       announce=lambda *_: None, store=FakeObjectStore(), policy=POLICY)

    # When the sweeper runs
    report = sweep(deps, NOW)

    # Then it sends nothing: the worker has it
    assert report.requeued == [] and report.skipped == 1 and queue.sent == []
    assert jobs.get(job.job_id).claim_token == "w"


def test_one_job_that_fails_does_not_stop_the_sweep(jobs: FakeJobRepository):
    # Given two stranded jobs and a queue that refuses the first send only
    first = queued_job(jobs, created_at=NOW - 900)
    second = queued_job(jobs, created_at=NOW - 800)

    class FlakyQueue(FakeJobQueue):
        def send(self, job_id: str, *, tenant: str | None = None, delay_seconds: int = 0,
                 fetches_urls: bool | None = None) -> None:
            if job_id == first.job_id:
                raise QueueUnavailable("down")
            super().send(job_id)

    queue = FlakyQueue()
    # When the sweeper runs
    report = sweep(deps_for(jobs, queue, []), NOW)
    # Then the second job was still queued again, and the first counted as an error for the next run
    assert queue.sent == [second.job_id] and report.errors == 1


def test_an_ended_job_whose_event_cannot_be_queued_gets_a_message_so_a_worker_announces_it(
        jobs: FakeJobRepository, queue: FakeJobQueue):
    # Given an old stranded job, and webhook announcing that fails (its queue is down)
    old = queued_job(jobs, created_at=NOW - 3 * 3600)

    def failing_announce(*_args: Any) -> None:
        raise QueueUnavailable("webhooks queue down")

    deps = SweeperDeps(jobs=jobs, queue=queue, billing=billing_over(jobs),
                       announce=failing_announce, store=FakeObjectStore(), policy=POLICY)
    # When the sweeper ends it
    report = sweep(deps, NOW)
    # Then it is ended, and a job message goes out: the worker's delivery of an ended job announces its event
    assert report.ended == [old.job_id] and queue.sent == [old.job_id]


def test_the_sweep_pages_through_every_due_job(jobs: FakeJobRepository, queue: FakeJobQueue):
    # Given more stranded jobs than fit one page
    created = {queued_job(jobs, created_at=NOW - 900 + i).job_id for i in range(5)}
    deps = SweeperDeps(jobs=jobs, queue=queue, billing=billing_over(jobs),
                       announce=lambda *_: None, store=FakeObjectStore(), policy=SweepPolicy(page_size=2))
    # When the sweeper runs, then every one is queued again
    sweep(deps, NOW)
    assert set(queue.sent) == created


def test_balance_moves_left_half_way_by_dead_writers_are_finished(jobs: FakeJobRepository, queue: FakeJobQueue):
    # Given, past the grace: a submit that died after its hold, one that died before it, and a worker that died
    # after ending its job but before the account got the hold back
    announced: list[str] = []
    deps = deps_for(jobs, queue, announced)
    ledger = deps.billing.ledger
    held, unheld, ended = (queued_job(jobs, created_at=NOW - 600) for _ in range(3))
    store = deps.store
    store.put(f"outputs/{ended.job_id}/0.png", b"img", "image/png")
    for pending in (held, unheld):
        jobs.set(pending.job_id, hold_pending=pending.reserved_micros)
    ledger.hold(held.account_id, held.job_id, held.reserved_micros)
    ledger.hold(ended.account_id, ended.job_id, ended.reserved_micros)
    jobs.set(ended.job_id, status="failed", completed_at=NOW - 600, release_pending=ended.reserved_micros)
    balance = ledger.get_account(held.account_id).balance_micros

    # When the sweeper runs, twice
    report = sweep(deps, NOW)
    again = sweep(deps, NOW + 1)

    # Then the held job is confirmed and queued, the unheld one deleted, the ended one's hold given back; once
    assert (report.requeued, report.discarded, report.settled) == ([held.job_id], [unheld.job_id], [ended.job_id])
    assert (again.requeued, again.discarded, again.settled) == ([], [], [])
    assert queue.sent == [held.job_id] and unheld.job_id not in jobs.items
    assert "hold_pending" not in jobs.items[held.job_id] and "release_pending" not in jobs.items[ended.job_id]
    account = ledger.get_account(held.account_id)
    assert account.holds == {held.job_id: held.reserved_micros}
    assert account.balance_micros == balance + ended.reserved_micros
    # and the ended job's event (lost with its writer) is announced, its stray outputs deleted
    assert announced == [ended.job_id] and store.keys_under(f"outputs/{ended.job_id}/") == []
