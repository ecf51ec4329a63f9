"""A bounded fault run through the local stack, as an operator would try it: 160 jobs at concurrency 8, a fifth
with provider faults (500s, 429s, timeouts past the provider timeout, slow calls, safety refusals, an outage),
worker processes killed mid-job, duplicate queue messages. Every accepted job must end as its fault dictates, be
charged exactly what it produced, and the books and the emulation's memory must hold."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from local.load.generator import (
    RssSampler,
    WorkerKiller,
    balance_micros,
    open_account,
    plan,
    reconcile_account,
    send_duplicates,
    submit_all,
    wait_for_end,
)
from local.stack import LoopbackStack

# local_only: its own stack, the stand-in's faults and a restart of moto
pytestmark = [pytest.mark.e2e, pytest.mark.local_only, pytest.mark.timeout(420)]

JOBS = 160
CONCURRENCY = 8
KILLS = 6
CREDIT_MICROS = 10_000_000
# Measured on this 2-core machine: moto's peak RSS for this run is about 120-170 MB (see the closing note of
# issue 7); unpatched moto grew by gigabytes in the same minutes.
MOTO_RSS_BOUND_BYTES = 400 * 1024 * 1024

STACK_PARAMETERS = {
    "ProviderRetryBaseSeconds": "1",
    # The timeout fault hangs 8 s: the worker's own timeout must fire. 3 s leaves the slow fault (1.5 s) room on a
    # machine shared with the other half of the e2e run.
    "ProviderTimeoutSeconds": "3",
    "WorkerLeaseSeconds": "6",  # a killed worker's job runs again within about 11 s
    # A job whose message stays invisible (a worker killed before it shortened the visibility) is swept after 15 s.
    "SweepStallGraceSeconds": "15",
    "MaxWaitSeconds": "25",
    "WorkerMaxConcurrency": str(CONCURRENCY),  # the worker's cap (its event source's pollers) at the run's concurrency
}


@pytest.fixture(scope="module")
def fault_stack(tmp_path_factory) -> Iterator[LoopbackStack]:
    log_path = tmp_path_factory.mktemp("fault-run") / "stack.log"
    with LoopbackStack(port=0, provider_delay=0.3, parameter_overrides=STACK_PARAMETERS, quiet=True,
                    log_path=log_path, poller_concurrency=CONCURRENCY, max_environments=CONCURRENCY,
                    schedule_seconds=5) as stack:
        stack.provider.slow_seconds = 1.5  # within the 3 s provider timeout: slow, not failed
        yield stack


def test_every_job_ends_as_its_fault_dictates_and_the_books_balance(fault_stack: LoopbackStack):
    stack = fault_stack
    rng = random.Random(7)
    account = open_account(stack, credit_micros=CREDIT_MICROS)
    submissions = plan(JOBS, fault_share=0.2, rng=rng)
    duplicated: list[str] = []

    def maybe_duplicate(submission) -> None:
        if rng.random() < 0.2 and submission.job_id:
            send_duplicates(stack, [submission.job_id])
            duplicated.append(submission.job_id)

    # When they are submitted at concurrency 8 while workers are killed mid-job
    with RssSampler(stack.moto_pid) as moto, WorkerKiller(stack, kills=KILLS, every_seconds=1.5) as killer:
        submit_all(stack.base_url, account.api_key, submissions, concurrency=CONCURRENCY,
                   on_accepted=maybe_duplicate)
        accepted = [s for s in submissions if s.job_id]
        views = wait_for_end(stack.base_url, account.api_key, [s.job_id for s in accepted], deadline_seconds=240)

    # Then every submission was accepted (no 5xx, no lost request)
    assert [(s.status_code, s.error) for s in submissions if s.status_code != 202] == []
    # And every job ended, each as its fault dictates
    outcomes = {s.job_id: (views[s.job_id]["status"], (views[s.job_id].get("error") or {}).get("code"))
                for s in accepted}
    wrong = {s.prompt: (outcomes[s.job_id], s.expected) for s in accepted if outcomes[s.job_id] != s.expected}
    assert wrong == {}
    # And workers really were killed mid-job, and duplicates really were sent
    assert len(killer.killed) >= 3 and len(duplicated) >= 10
    # And the balance is the credit minus exactly what the jobs were charged, nothing in flight; reconcile is clean
    charged = sum(round(views[s.job_id]["usage"]["cost_usd"] * 1_000_000) for s in accepted)
    succeeded = [s for s in accepted if outcomes[s.job_id][0] == "succeeded"]
    # gpt-image-2, low, 1024x1024: one image each, and its prompt's tokens; failed jobs nothing
    assert all(views[s.job_id]["usage"]["pricing"]["outputs_usd"] == 0.006 for s in succeeded)
    assert charged == sum(round(views[s.job_id]["usage"]["cost_usd"] * 1_000_000) for s in succeeded)
    assert charged > len(succeeded) * 6_000
    assert balance_micros(stack, account.account_id) == (CREDIT_MICROS - charged, 0)
    assert reconcile_account(stack, account.account_id) == []
    # And the emulation's memory stayed bounded
    assert moto.peak_bytes < MOTO_RSS_BOUND_BYTES
