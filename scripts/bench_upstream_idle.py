"""The worker's billed duration per job for a 60 s model call, through a synchronous upstream versus an
asynchronous one (submit, then delayed-message polls), on the worker's real logic (jobs/process.py) with in-memory
fakes and a fake clock: each upstream HTTP exchange costs ROUND_TRIP_SECONDS, the model MODEL_SECONDS.

Billed duration is the clock time spent inside run_job per invocation, summed per job (Lambda bills by the
millisecond). It counts the upstream exchanges only: DynamoDB/S3 calls are not modelled (tens of ms each in AWS).
Run: .venv/bin/python -m scripts.bench_upstream_idle
"""

from __future__ import annotations

import argparse

from retouch.jobs.process import WorkerDeps, run_job
from tests.builders import queued_job
from tests.fakes import (
    FakeJobQueue,
    FakeJobRepository,
    FakeObjectStore,
    FakeUrls,
    billing_over,
    no_events,
    rendered,
)
from tests.fakes.routing import FakeClock, ScriptedUpstream, routing_deps

MODEL_SECONDS = 60.0
ROUND_TRIP_SECONDS = 0.3  # one HTTP exchange with the upstream (submit or status check)
POLL_EVERY_SECONDS = 20  # the provider's eta / our poll schedule


def measure(upstream: ScriptedUpstream, clock: FakeClock) -> tuple[float, int, str]:
    jobs, queue = FakeJobRepository(), FakeJobQueue()
    deps = WorkerDeps(jobs=jobs, store=FakeObjectStore(), routing=routing_deps([upstream], jobs.record_attempts,
                                                                           clock=clock),
                      schedule_poll=queue.send_poll, fetch_url=FakeUrls(), max_attempts=4, retry_base_seconds=1,
                      lease_seconds=120, announce=no_events, billing=billing_over(jobs))
    job = queued_job(jobs)
    billed, invocations = 0.0, 0
    started = clock()
    outcome = None
    poll_seq = None
    while True:
        before = clock()
        outcome = run_job(job.job_id, deps, poll_seq=poll_seq)
        billed += clock() - before
        invocations += 1
        if not queue.polls:
            break
        _job_id, poll_seq, delay = queue.polls.pop(0)
        clock.advance(delay)
    return billed, invocations, f"{outcome} after {clock() - started:.1f} s wall"


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    sync_clock = FakeClock()
    sync = ScriptedUpstream("sync", [rendered()], clock=sync_clock, call_seconds=MODEL_SECONDS + ROUND_TRIP_SECONDS)
    async_clock = FakeClock()
    polls = int(MODEL_SECONDS // POLL_EVERY_SECONDS)
    queued = ScriptedUpstream("async", [POLL_EVERY_SECONDS] * polls + [rendered()], clock=async_clock,
                              call_seconds=ROUND_TRIP_SECONDS)
    print(f"model call {MODEL_SECONDS:.0f} s, upstream round trip {ROUND_TRIP_SECONDS} s, polls every "
          f"{POLL_EVERY_SECONDS} s")
    for name, upstream, clock in (("sync upstream", sync, sync_clock), ("async upstream", queued, async_clock)):
        billed, invocations, how = measure(upstream, clock)
        print(f"{name:<15} billed {billed:6.1f} s over {invocations} invocation(s); job {how}")


if __name__ == "__main__":
    main()
