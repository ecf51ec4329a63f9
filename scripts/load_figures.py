"""Reliability figures from the local stack as `make run` configures it (printed, never asserted):

- jobs completed per second at concurrency 1, 8 and 32 (provider delay 0);
- submit latency p50/p95 at concurrency 8;
- the AWS emulation's (moto's) peak RSS over a 500-job run;
- the time from killing a worker mid-job (SIGKILL) to its job running again, with the default lease.

Run: .venv/bin/python -m scripts.load_figures [--jobs 500] [--skip-kill]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections import Counter
from pathlib import Path

from local.load.generator import (
    RssSampler,
    open_account,
    percentile,
    plan,
    submit_all,
    wait_for_end,
)
from local.settings import LocalSettings
from local.stack import LoopbackStack


def throughput(stack: LoopbackStack, api_key: str, jobs: int, concurrency: int) -> dict[str, float]:
    submissions = plan(jobs, fault_share=0, rng=random.Random(concurrency))
    started = time.monotonic()
    submit_all(stack.base_url, api_key, submissions, concurrency=concurrency)
    views = wait_for_end(stack.base_url, api_key, [s.job_id for s in submissions if s.job_id],
                         deadline_seconds=600, poll_seconds=0.2)
    elapsed = time.monotonic() - started
    done = sum(1 for view in views.values() if view["status"] == "succeeded")
    latencies = [s.seconds for s in submissions]
    refused = Counter(f"{s.status_code} {s.error[:80] if s.error else ''}" for s in submissions if s.status_code != 202)
    return {"concurrency": concurrency, "jobs": jobs, "succeeded": done, "refused": dict(refused),
            "seconds": round(elapsed, 1),
            "jobs_per_second": round(done / elapsed, 2),
            "submit_p50_ms": round(percentile(latencies, 0.5) * 1000),
            "submit_p95_ms": round(percentile(latencies, 0.95) * 1000)}


def kill_to_running_again(stack: LoopbackStack, api_key: str) -> float:
    """One job that spends 30 s in the provider; its worker is killed 2 s in; seconds until another claims it
    (the job's `attempts` count claims)."""
    import os
    import signal

    stack.provider.slow_seconds = 30
    table = stack.resources.ref("Table")
    dynamodb = stack.aws_client("dynamodb")
    [submission] = plan(1, fault_share=0, rng=random.Random(0))
    submission.prompt += " [fault:slowx1]"
    submit_all(stack.base_url, api_key, [submission], concurrency=1)

    def attempts() -> tuple[int, str]:
        item = dynamodb.get_item(TableName=table, Key={"pk": {"S": f"JOB#{submission.job_id}"}, "sk": {"S": "JOB"}},
                                 ConsistentRead=True)["Item"]
        return int(item.get("attempts", {}).get("N", "0")), item["status"]["S"]

    while attempts() != (1, "running"):
        time.sleep(0.05)
    time.sleep(2)
    [pid] = stack.function_pool("WorkerFunction").busy_pids()
    os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()
    while attempts()[0] < 2:  # claimed again (it may finish at once: the provider is fast on the second call)
        time.sleep(0.2)
        if time.monotonic() - killed_at > 900:
            return float("nan")
    return round(time.monotonic() - killed_at, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=500, help="jobs in the long (memory) run")
    parser.add_argument("--skip-kill", action="store_true", help="skip the kill-recovery figure (about 2 minutes)")
    args = parser.parse_args()
    settings = LocalSettings(PORT=0, RETOUCH_LOCAL_SYNC_PORT=0, RETOUCH_LOCAL_PROVIDER_DELAY=0)
    figures: dict[str, object] = {"stack": {"max_environments": settings.max_environments,
                                            "poller_concurrency": settings.poller_concurrency}}
    log_path = Path(tempfile.gettempdir(), "retouch-load-figures.log")
    with LoopbackStack.from_settings(settings, quiet=True, log_path=str(log_path)) as stack:
        account = open_account(stack, credit_micros=1_000_000_000)
        with RssSampler(stack.moto_pid) as moto:
            figures["throughput"] = [throughput(stack, account.api_key, jobs, concurrency)
                                     for jobs, concurrency in ((60, 1), (120, 8), (200, 32))]
            rest = args.jobs - 380
            if rest > 0:
                throughput(stack, account.api_key, rest, 8)
        figures["moto_peak_rss_mb"] = round(moto.peak_bytes / 2**20, 1)
        figures["jobs_in_memory_run"] = max(args.jobs, 380)
        if not args.skip_kill:
            figures["kill_to_running_again_seconds"] = kill_to_running_again(stack, account.api_key)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
