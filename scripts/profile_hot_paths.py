"""Where the api's submit spends its time under the local stack (cProfile per invocation).

The worker is left out: it runs each record of a batch on a pool thread (jobs/batch.py), which cProfile, profiling
the invoking thread only, does not see. For the worker, sample its function host's process with wall-clock stacks:
`py-spy record --idle --threads -f raw -p <pid of the worker's local.lambdas.function_runtime>`.

Each function host profiles its invocations (RETOUCH_LOCAL_PROFILE_DIR); this script sends async edits of a 1 MB PNG
and `Prefer: wait` edits, then prints, per function, the median milliseconds of each step of the hot path and the
rest (routing, validation models, logging), plus what the local runtime adds around the handlers (the client's time
minus the api's and authorizer's handler time). Profiling slows Python code down; read the split, not the totals.

Run: .venv/bin/python -m scripts.profile_hot_paths [--jobs 20] [--provider-delay 1]
"""

from __future__ import annotations

import argparse
import os
import pstats
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx

from local.lambdas.function_runtime import PROFILE_DIR_VARIABLE
from local.load.generator import open_account
from local.settings import LocalSettings
from local.stack import LoopbackStack
from scripts.bench import PROMPT, edit_files, png_of_bytes

# Steps of each hot path: (label, path suffix of the module, function). Chosen not to nest in one another.
STEPS = {
    "Api": [
        ("admission: rate-limit count + account read", "web/admission.py", "admitted"),
        ("multipart parse + request validation", "web/request_parsing.py", "parse_edit"),
        ("image inspect (decode headers, checks)", "images/input_checks.py", "check_image"),
        ("idempotency key (none sent: no-op)", "jobs/idempotency.py", "keyed_request"),
        ("credit precheck (account read)", "billing/charges.py", "precheck"),
        ("S3 puts of the inputs (beside the writes; the wait for them)", "jobs/submit.py", "result"),
        ("job put + hold update + entry transaction", "billing/charges.py", "reserve"),
        ("SQS send", "data/queue.py", "send"),
        ("Prefer: wait polling (incl. sleeps)", "jobs/wait.py", "wait_for_job"),
        ("render the job (presign / b64)", "jobs/view.py", "render_job"),
        ("client construction (first use)", "data/clients.py", "aws_client"),
    ],
    "Status": [
        ("job read (DynamoDB)", "data/jobs.py", "get"),
        ("render the job (presign)", "jobs/view.py", "render_job"),
    ],
    "Authorizer": [
        ("key lookup (DynamoDB)", "auth/authorize.py", "authenticate"),
    ],
}


def cumulative(stats: pstats.Stats, suffix: str, function: str) -> float:
    total = 0.0
    for (filename, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if name == function and filename.replace(os.sep, "/").endswith(suffix):
            total += ct
    return total


def split(profile_dir: Path) -> dict[str, dict[str, float]]:
    """Median ms per step, per function (the api's async and `Prefer: wait` submits apart)."""
    per_step: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(profile_dir.glob("*.prof"), key=lambda p: p.stat().st_mtime):
        function = next((name for name in STEPS if f"{name.lower()}function" in path.name.lower()), None)
        if function is None:
            continue
        stats = pstats.Stats(str(path))
        total = stats.total_tt  # type: ignore[attr-defined]
        steps = {label: cumulative(stats, suffix, name) for label, suffix, name in STEPS[function]}
        if function == "Api":
            function = "Api (Prefer: wait)" if steps["Prefer: wait polling (incl. sleeps)"] > 0 else "Api (async)"
        for label, seconds in steps.items():
            per_step[function][label].append(seconds)
        per_step[function]["rest (routing, models, logging, Powertools)"].append(total - sum(steps.values()))
        per_step[function]["total handler"].append(total)
    return {function: {label: round(statistics.median(values) * 1000, 1) for label, values in steps.items()}
            for function, steps in per_step.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--provider-delay", type=float, default=1.0)
    args = parser.parse_args()
    profile_dir = Path(tempfile.mkdtemp(prefix="retouch-profile-"))
    os.environ[PROFILE_DIR_VARIABLE] = str(profile_dir)
    image = png_of_bytes(1_000_000, 1)
    settings = LocalSettings(PORT=0, RETOUCH_LOCAL_SYNC_PORT=0, RETOUCH_LOCAL_PROVIDER_DELAY=args.provider_delay)
    client_seconds: dict[str, list[float]] = defaultdict(list)
    with LoopbackStack.from_settings(settings, quiet=True) as stack:
        account = open_account(stack, credit_micros=1_000_000_000)
        with httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {account.api_key}"},
                          timeout=120) as client:
            for index in range(args.jobs + 1):
                for mode, headers in (("async", {}), ("wait", {"Prefer": "wait=25"})):
                    started = time.perf_counter()
                    response = client.post("/v1/images/edits", files=edit_files(image), headers=headers,
                                           data={"prompt": f"{PROMPT} {index}", "size": "1024x1024", "quality": "low"})
                    assert response.status_code in (200, 202), response.text
                    if index:
                        client_seconds[mode].append(time.perf_counter() - started)
                    if mode == "async":
                        job_id = response.json()["id"]
                        while client.get(f"/v1/jobs/{job_id}").json()["status"] not in ("succeeded", "failed"):
                            time.sleep(0.05)
    figures = split(profile_dir)
    print(f"median ms per invocation, {args.jobs} async + {args.jobs} Prefer: wait edits of a 1 MB PNG, "
          f"provider delay {args.provider_delay:g} s, under cProfile (profiles in {profile_dir}):")
    for function, steps in figures.items():
        print(f"  {function}")
        for label, ms in steps.items():
            print(f"    {label:<48} {ms:8.1f}")
    for mode, seconds in client_seconds.items():
        print(f"  client-side {mode} submit, median ms: {statistics.median(seconds) * 1000:.1f}")


if __name__ == "__main__":
    main()
