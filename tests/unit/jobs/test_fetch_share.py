"""Issue #24 (1): each account's jobs fetching input URLs hold at most its share of the workers; a job over it is
deferred by a new delayed message in its account's group, untouched (no claim, no attempt, no receive spent)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from retouch.jobs.fetch_share import DEFER_SECONDS
from retouch.jobs.process import run_job
from retouch.models.records import StoredInput
from retouch.providers.base import ProviderResult
from tests.builders import new_account_id, png, queued_job
from tests.fakes import FakeJobQueue, FakeJobRepository, FakeUrls, ScriptedProvider, rendered
from tests.fakes.wiring import Build, fetch_share_over

URL = "https://images.example/a.png"


def url_edit(jobs: FakeJobRepository, account_id: str) -> str:
    return queued_job(jobs, kind="edit", account_id=account_id, inputs=[StoredInput(url=URL)]).job_id


def test_a_job_over_its_accounts_fetching_share_is_deferred_untouched(
        jobs: FakeJobRepository, worker_deps: Build, queue: FakeJobQueue) -> None:
    # Given an account whose two fetching shares are held (two of its jobs are fetching URLs that drip)
    noisy = new_account_id()
    share = fetch_share_over(queue, per_account=2)
    for holder in ("job_dripping_1", "job_dripping_2"):
        assert share.slots.acquire(noisy, holder, now=0, until=10**10)
    deps = replace(worker_deps(ScriptedProvider()), fetch_share=share)
    # When a third URL job of that account is delivered
    job_id = url_edit(jobs, noisy)
    outcome = run_job(job_id, deps)
    # Then it is deferred: a new delayed message in the account's group, and the job is as it was (queued, no attempt)
    assert outcome == "deferred"
    assert queue.sent == [job_id] and queue.tenants[job_id] == noisy and queue.delays[job_id] == DEFER_SECONDS
    assert queue.fetches_urls[job_id] is True  # so its next delivery checks the share again
    record = jobs.get(job_id)
    assert record is not None and record.status == "queued" and record.attempts == 0


def test_another_accounts_url_job_and_the_same_accounts_stored_files_run(
        jobs: FakeJobRepository, worker_deps: Build, queue: FakeJobQueue, urls: FakeUrls) -> None:
    # Given one account holding all its fetching shares
    noisy = new_account_id()
    share = fetch_share_over(queue, per_account=1)
    assert share.slots.acquire(noisy, "job_dripping", now=0, until=10**10)
    urls.pages[URL] = png(64, 64)
    deps = replace(worker_deps(ScriptedProvider(rendered(), rendered())), fetch_share=share)
    # When another account's URL job and the same account's generation are delivered
    other = url_edit(jobs, new_account_id())
    generation = queued_job(jobs, account_id=noisy).job_id
    # Then both run
    assert run_job(other, deps) == "succeeded"
    assert run_job(generation, deps) == "succeeded"
    assert queue.sent == []


def test_the_share_is_given_back_once_the_inputs_are_in(
        jobs: FakeJobRepository, worker_deps: Build, queue: FakeJobQueue, urls: FakeUrls) -> None:
    # Given an account with one fetching share, and a URL job whose upstream call is still running
    account = new_account_id()
    share = fetch_share_over(queue, per_account=1)
    urls.pages[URL] = png(64, 64)
    seen_during_the_call: list[bool] = []

    class CheckingProvider(ScriptedProvider):
        def edit(self, **call: Any) -> ProviderResult:
            seen_during_the_call.append(share.slots.acquire(account, "job_next", now=0, until=10**10))
            share.slots.release(account, "job_next")
            return super().edit(**call)

    deps = replace(worker_deps(CheckingProvider(rendered())), fetch_share=share)
    # When it runs
    assert run_job(url_edit(jobs, account), deps) == "succeeded"
    # Then the account's next URL job could take the share while the first was calling its upstream
    assert seen_during_the_call == [True]


def test_a_message_saying_the_job_fetches_no_url_is_claimed_without_a_read_first(
        jobs: FakeJobRepository, worker_deps: Build) -> None:
    # Given two queued generations
    deps = worker_deps(ScriptedProvider(rendered(), rendered()))
    told, untold = queued_job(jobs).job_id, queued_job(jobs).job_id
    # When one is delivered by a message that says it fetches no URL (the submit's) and the other by one that says
    # nothing (sent before the hint existed, or by the sweeper)
    jobs.reads = 0
    assert run_job(told, deps, may_fetch_urls=False) == "succeeded"
    reads_told = jobs.reads
    assert run_job(untold, deps) == "succeeded"
    # Then both run, and only the one whose message said nothing was read before its claim
    assert jobs.reads - reads_told == reads_told + 1


def test_a_message_saying_the_job_fetches_urls_still_takes_the_share(
        jobs: FakeJobRepository, worker_deps: Build, queue: FakeJobQueue) -> None:
    # Given an account whose one fetching share is held
    noisy = new_account_id()
    share = fetch_share_over(queue, per_account=1)
    assert share.slots.acquire(noisy, "job_dripping", now=0, until=10**10)
    deps = replace(worker_deps(ScriptedProvider()), fetch_share=share)
    # When its URL job is delivered by a message that says so
    job_id = url_edit(jobs, noisy)
    # Then it is deferred as before
    assert run_job(job_id, deps, may_fetch_urls=True) == "deferred"
