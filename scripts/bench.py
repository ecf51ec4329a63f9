"""Figures, not tests (`make bench`): what Retouch adds to a provider call, measured side by side in one run.

- platform overhead per job: the same edit sent straight to the stand-in provider and through Retouch (async submit
  + GET every 50 ms, and `Prefer: wait`), at concurrency 1 and 8: p50/p95 of (through Retouch - direct);
- submit latency (to the 202) for a 1 MB and a 4 MB PNG, and GET /v1/jobs/{id};
- throughput: jobs completed per second at concurrency 32, provider delay 0;
- cold init (import + first client) of each function over a bare `import boto3` + client;
- the worker's peak RSS for 16 x 4 MB inputs producing a 3840x2160 PNG, over the bytes in flight;
- a cost model: each function's billed duration and MemorySize, and one job's AWS requests, at provider latencies
  of 60 s and 150 s, at list prices (tooling/aws_prices.json), as a share of the price charged per quality;
- contention on an account: one account vs eight, at concurrency 16 and 64, N submits each (provider delay 0, the
  local DynamoDB's transaction holds on): submits/s, submit p50/p95, refusals by status, and how many tries billing
  took per reserve and per settle (its `tries` log field).

- AWS requests per job by kind and by caller (api, worker, status, authorizer, the event source mapping), and of
  one status poll.


Run: make bench (or .venv/bin/python -m scripts.bench --json bench.json [--jobs 20] [--contention-submits 160]);
one part of it: .venv/bin/python -m scripts.bench --sections overhead latency requests [--concurrency 1] [--jobs 20];
contention alone: .venv/bin/python -m scripts.bench --only contention [--contention-submits 2000]
[--contention-concurrency 16 64]; streaming and callbacks (scripts/bench_streaming.py): --only upstream_lag,
--only streaming
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from local.cloudformation.template import Template
from local.load.generator import Account, RssSampler, open_account, percentile, plan, wait_for_end
from local.settings import LocalSettings
from local.stack import STAND_IN_PROVIDER_KEY, LoopbackStack
from scripts import bench_streaming, load_figures
from tooling import cost_model
from tooling.functions import ROOT, function_env, function_names
from tooling.stack_log import StackLog, tries_histogram

PROVIDER_DELAY = 2.0
POLL_SECONDS = 0.05
IMPORT_RUNS = 7
# What every function imports before any of its own code: Powertools' Logger, Metrics and Tracer (X-Ray SDK, botocore
# patched) and pydantic with one model built. A function can get no closer to bare boto3 than this.
FLOOR = ("from aws_lambda_powertools import Logger, Metrics, Tracer; Logger(); Metrics(); "
         "Tracer(patch_modules=('botocore',)); import pydantic; "
         "pydantic.create_model('Settings', table_name=(str, ...))(table_name='t')")
MB = 1_000_000
PROMPT = "put a red hat on the subject"
CONTENTION_SUBMITS = 160
CONTENTION_CONCURRENCY = (16, 64)
CONTENTION_ACCOUNTS = (1, 8)


def png_of_bytes(target: int, seed: int) -> bytes:
    """A PNG of about `target` bytes: random pixels do not compress, so the size follows the pixel count."""
    side = math.isqrt(target // 3) + 1
    return _png(Image.frombytes("RGB", (side, side), random.Random(seed).randbytes(side * side * 3)))


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def summary(seconds: Sequence[float]) -> dict[str, float]:
    return {"n": len(seconds), "p50_ms": round(percentile(seconds, 0.5) * 1000, 1),
            "p95_ms": round(percentile(seconds, 0.95) * 1000, 1)}


# --- cold init ---------------------------------------------------------------------------------------------


def _init_probe(code: str, env: dict[str, str], cwd: Path) -> Callable[[], float]:
    """Times `code` in a fresh interpreter, bytecode cached (as boto3's is in the Lambda runtime)."""
    env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(ROOT / ".venv" / "bench-pycache")
    probe = f"import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"

    def run() -> float:
        return float(subprocess.run([sys.executable, "-c", probe], env=env, cwd=cwd, capture_output=True,
                                    text=True, check=True).stdout)

    return run


def cold_init(runs: int = IMPORT_RUNS) -> dict[str, Any]:
    """Each function's import + first client over a bare `import boto3` + client, in rounds: every round times the
    bare baseline and each function once, so a load change on this shared machine hits both sides of a ratio."""
    client = "import boto3; boto3.client('dynamodb')"
    probes = {"bare": _init_probe(client, function_env("api"), ROOT)}
    probes |= {name: _init_probe(f"import app; {client}", function_env(name), ROOT / "functions" / name)
               for name in function_names()}
    probes["floor"] = _init_probe(f"{FLOOR}; {client}", function_env("status"), ROOT)
    for probe in probes.values():
        probe()  # fills the bytecode cache
    times: dict[str, list[float]] = {name: [] for name in probes}
    for _ in range(runs):
        for name, probe in probes.items():
            times[name].append(probe())
    bare = times.pop("bare")
    return {"inputs": f"{runs} rounds of fresh interpreters, each timing the bare baseline and every function once; "
                      "bytecode cached; Lambda's environment markers (tracer on); first client: dynamodb; "
                      "ratio = median of the rounds' ratios",
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "bare_boto3_ms": round(statistics.median(bare) * 1000, 1),
            "functions": {name: {"ms": round(statistics.median(s) * 1000, 1),
                                 "over_bare": round(statistics.median(x / b for x, b in zip(s, bare, strict=True)), 2)}
                          for name, s in times.items()}}


# --- the stack -----------------------------------------------------------------------------------------------


def edit_files(image: bytes) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("image[]", ("photo.png", image, "image/png"))]


def timed_runs(jobs: int, concurrency: int, one: Callable[[int], None]) -> list[float]:
    def timed(index: int) -> float:
        started = time.perf_counter()
        one(index)
        return time.perf_counter() - started

    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(timed, range(jobs)))


# The overhead's `Prefer: wait` series holds up to 8 waits of its one account at once (concurrency 8); past
# WaitHoldsPerAccount (5 by default) they would be answered at once, unwaited. Its 50 ms polls read its one account
# about 14 times a second, past the default ReadsPerMinute (600), whose 429s would end the series.
OVERHEAD_PARAMETERS = {"WaitHoldsPerAccount": "8", "ReadsPerMinute": "100000"}
# The contention figure measures an account's balance under concurrent submits, not the stack's concurrency caps: with
# the defaults (ApiReservedConcurrency 40; the route throttle's 50/s, burst 100) a 64-wide burst meets API Gateway's
# 500s (Lambda throttled) and 429s before any balance, as it would in AWS, and those fast refusals use up the cell's
# submits. An operator whose customer sends that burst raises both; so does this stack.
CONTENTION_PARAMETERS = {"ApiReservedConcurrency": "0", "ApiThrottleRateLimit": "1000", "ApiThrottleBurstLimit": "2000"}


def overhead(stack: LoopbackStack, account: Account, image: bytes, jobs: int, log: StackLog,
             concurrencies: Sequence[int] = (1, 8)) -> dict[str, Any]:
    data = {"model": "gpt-image-2", "prompt": PROMPT, "size": "1024x1024", "quality": "low"}
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    retouch = httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {account.api_key}"},
                           timeout=120, limits=limits)
    direct = httpx.Client(base_url=stack.provider.base_url,
                          headers={"Authorization": f"Bearer {STAND_IN_PROVIDER_KEY}"},
                          timeout=120, limits=limits)

    def straight(index: int) -> None:
        response = direct.post("/images/edits", files=edit_files(image), data=data)
        assert response.status_code == 200, response.text

    def polled(index: int) -> None:
        response = retouch.post("/v1/images/edits", files=edit_files(image),
                                data={**data, "prompt": f"{PROMPT} {index}"})
        assert response.status_code == 202, response.text
        job_id = response.json()["id"]
        while True:
            time.sleep(POLL_SECONDS)
            polled = retouch.get(f"/v1/jobs/{job_id}")
            assert polled.status_code == 200, polled.text
            view = polled.json()
            if view["status"] in ("succeeded", "failed", "canceled"):
                assert view["status"] == "succeeded", view
                return

    def waited(index: int) -> None:
        response = retouch.post("/v1/images/edits", files=edit_files(image), headers={"Prefer": "wait=25"},
                                data={**data, "prompt": f"{PROMPT} {index}"})
        assert response.status_code == 200 and response.json()["status"] == "succeeded", response.text

    results: dict[str, Any] = {}
    durations: dict[str, dict[str, list[float]]] = {}
    with retouch, direct:
        timed_runs(8, 8, waited)  # warms every environment the runs below use
        for concurrency in concurrencies:
            count = max(jobs, 3 * concurrency)
            times = {}
            for mode, one in (("direct", straight), ("async_poll_50ms", polled), ("prefer_wait", waited)):
                log.mark()
                times[mode] = timed_runs(count, concurrency, one)
                durations[f"{mode}_c{concurrency}"] = log.durations()
            base = statistics.median(times["direct"])
            row: dict[str, Any] = {"jobs": count, "direct": summary(times["direct"])}
            for mode in ("async_poll_50ms", "prefer_wait"):
                extra = [t - base for t in times[mode]]
                row[mode] = {**summary(extra), "p50_share_of_provider_call": round(percentile(extra, 0.5) / base, 3)}
            results[f"c{concurrency}"] = row
    return {"inputs": f"edit of one {len(image) / MB:.2f} MB PNG to 1024x1024, provider delay {PROVIDER_DELAY:g} s; "
                      "overhead = each job's time through Retouch - the median direct call",
            **results, "_durations": durations}


def submit_latency(stack: LoopbackStack, account: Account, images: dict[str, bytes], jobs: int) -> dict[str, Any]:
    """Each image's submits twice over: back to back (earlier jobs run meanwhile on the same two cores, so the worker,
    moto and the stand-in compete with the api for CPU, which Lambda functions never do), and one at a time once the
    job before has ended (the api's own path, as a deployed function has its CPU to itself)."""
    results: dict[str, Any] = {}
    job_ids: list[str] = []
    with httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {account.api_key}"},
                      timeout=120) as client:

        def submit(image: bytes, index: int) -> tuple[float, str]:
            started = time.perf_counter()
            response = client.post("/v1/images/edits", files=edit_files(image),
                                   data={"prompt": f"{PROMPT} {index}", "size": "1024x1024", "quality": "low"})
            seconds = time.perf_counter() - started
            assert response.status_code == 202, response.text
            job_ids.append(response.json()["id"])
            return seconds, str(response.json()["id"])

        def ended(job_id: str) -> None:
            while client.get(f"/v1/jobs/{job_id}").json()["status"] in ("queued", "running"):
                time.sleep(POLL_SECONDS)

        for label, image in images.items():
            results[f"submit_{label}"] = {"bytes": len(image),
                                          **summary([submit(image, index)[0] for index in range(jobs)])}
            for job_id in job_ids[-jobs:]:
                ended(job_id)
            alone = []
            for index in range(jobs):
                seconds, job_id = submit(image, index)
                alone.append(seconds)
                ended(job_id)
            results[f"submit_{label}_alone"] = {"bytes": len(image), **summary(alone)}
        gets = []
        for job_id in job_ids[:2 * jobs]:
            started = time.perf_counter()
            assert client.get(f"/v1/jobs/{job_id}").status_code == 200
            gets.append(time.perf_counter() - started)
        results["get_job"] = summary(gets)
    return {"inputs": "concurrency 1, warm environments, async (no Prefer); `_alone`: each submit once the job "
                      "before it has ended", **results}


def throughput(stack: LoopbackStack, account: Account, jobs: int, concurrency: int) -> dict[str, Any]:
    figures = load_figures.throughput(stack, account.api_key, jobs, concurrency)
    return {"inputs": f"{jobs} generations (1024x1024 low), concurrency {concurrency}, provider delay 0", **figures}


def contention(stack: LoopbackStack, log: StackLog, submits: int,
               concurrencies: Sequence[int] = CONTENTION_CONCURRENCY,
               account_counts: Sequence[int] = CONTENTION_ACCOUNTS) -> dict[str, Any]:
    """The same submits on one account and spread over eight, at each concurrency: what one hot account costs.
    Each cell has fresh accounts and waits for its jobs to end (their settlements are its settles)."""
    cells: dict[str, Any] = {}
    for concurrency in concurrencies:
        # A throw-away round first, so that no cell pays for starting the function environments its concurrency needs.
        _contention_cell(stack, [open_account(stack, credit_micros=10_000_000_000)], 2 * concurrency, concurrency, log)
        for count in account_counts:
            accounts = [open_account(stack, credit_micros=10_000_000_000) for _ in range(count)]
            log.mark()
            cells[f"{count}acct_c{concurrency}"] = _contention_cell(stack, accounts, submits, concurrency, log)
    return {"inputs": f"{submits} generations (1024x1024 low) per cell, provider delay 0, submits spread round-robin "
                      f"over the accounts; {_overridden(stack)}; local DynamoDB transaction hold "
                      f"{stack.options.transaction_hold_seconds * 1000:g} ms; submits/s counts the 202s",
            **cells}


def _overridden(stack: LoopbackStack) -> str:
    """The stack's concurrency caps, as the figure ran under them."""
    defaults, overrides = stack.template.parameters, stack.options.parameter_overrides
    return ", ".join(f"{name} {overrides.get(name, defaults[name].get('Default'))}" for name in CONTENTION_PARAMETERS)


def _contention_cell(stack: LoopbackStack, accounts: Sequence[Account], submits: int, concurrency: int,
                     log: StackLog) -> dict[str, Any]:
    submissions = plan(submits, fault_share=0, rng=random.Random(concurrency))
    keys = [accounts[index % len(accounts)].api_key for index in range(submits)]
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(base_url=stack.base_url, timeout=120, limits=limits) as client:
        def one(index: int) -> None:
            submission = submissions[index]
            started = time.monotonic()
            try:
                response = client.post("/v1/images/generations", headers={"Authorization": f"Bearer {keys[index]}"},
                                       json={"model": "gpt-image-2", "prompt": submission.prompt, "quality": "low",
                                             "size": "1024x1024"})
            except httpx.HTTPError as exc:
                submission.error = type(exc).__name__
                return
            finally:
                submission.seconds = time.monotonic() - started
            submission.status_code = response.status_code
            if response.status_code == 202:
                submission.job_id = response.json()["id"]
            else:
                submission.error = _error_code(response)

        started = time.monotonic()
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(one, range(submits)))
        elapsed = time.monotonic() - started
    for account in accounts:  # settlements run while and after the submits; the cell ends when they have
        jobs = [s.job_id for s, key in zip(submissions, keys, strict=True) if s.job_id and key == account.api_key]
        wait_for_end(stack.base_url, account.api_key, jobs, deadline_seconds=600, poll_seconds=0.2)
    accepted = sum(1 for s in submissions if s.status_code == 202)
    tries = log.billing_tries()
    return {"accounts": len(accounts), "concurrency": concurrency, "submits": submits, "accepted": accepted,
            "submits_per_second": round(accepted / elapsed, 1),
            "p50_ms": round(percentile([s.seconds for s in submissions], 0.5) * 1000),
            "p95_ms": round(percentile([s.seconds for s in submissions], 0.95) * 1000),
            "refused": _refusals(submissions),
            "refusal_codes": dict(Counter(f"{s.status_code} {s.error}" for s in submissions if s.status_code != 202)),
            "tries_per_reserve": tries_histogram(tries["reserve"]),
            "tries_per_settle": tries_histogram(tries["settle"])}


def _error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return "(not json)"
    error = body.get("error", body) if isinstance(body, dict) else {}
    return str(error.get("code") or error.get("type") or "?") if isinstance(error, dict) else "?"


def _refusals(submissions: Sequence[Any]) -> dict[str, int]:
    """Refused submits by status: 402, 429, 503, any other 5xx, anything else (other 4xx, no answer)."""
    buckets = dict.fromkeys(("402", "429", "503", "5xx", "other"), 0)
    for submission in submissions:
        status = submission.status_code
        if status == 202:
            continue
        named = str(status) if status in (402, 429, 503) else "5xx" if 500 <= status < 600 else "other"
        buckets[named] += 1
    return buckets


def upload(client: httpx.Client, data: bytes) -> str:
    created = client.post("/v1/uploads", json={"filename": "in.png", "bytes": len(data), "mime_type": "image/png"})
    assert created.status_code == 201, created.text
    target = created.json()["upload"]
    sent = httpx.post(target["url"], data=target["fields"], files={"file": ("in.png", data, "image/png")}, timeout=120)
    assert sent.status_code == 204, sent.text
    return created.json()["id"]


def worker_peak_rss(stack: LoopbackStack, account: Account, jobs: int = 1) -> dict[str, Any]:
    """`jobs` jobs, each with 16 x 4 MB inputs (the same 16 uploaded files), submitted together so they run in one
    worker batch (the stack's poller gathers them; one poller thread, so no other takes part of the batch): the
    worker's peak over the bytes in flight."""
    inputs = [png_of_bytes(4 * MB, seed) for seed in range(16)]
    with httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {account.api_key}"},
                      timeout=120) as client:
        file_ids = [upload(client, data) for data in inputs]
        body = {"model": "gpt-image-2", "size": "3840x2160", "quality": "low",
                "images": [{"file_id": file_id} for file_id in file_ids]}
        with RssSampler(stack.function_pool("WorkerFunction").busy_pids, interval=0.02) as worker:
            ids = [client.post("/v1/images/edits", json=dict(body, prompt=f"{PROMPT} {uuid.uuid4().hex[:6]}")
                               ).json()["id"] for _ in range(jobs)]
            views = wait_for_end(stack.base_url, account.api_key, ids, deadline_seconds=300, poll_seconds=0.2)
        assert all(view["status"] == "succeeded" for view in views.values()), views
        view = next(iter(views.values()))
        url = (view.get("data") or [{}])[0].get("url")
        output = len(httpx.get(url, timeout=60).content) if url else len(view["data"][0]["b64_json"]) * 3 // 4
    in_flight = (sum(map(len, inputs)) + output) * jobs
    return {"inputs": f"{jobs} job(s) in one batch, each of 16 PNG inputs of {len(inputs[0]) / MB:.1f} MB (uploaded "
                      f"files), output 3840x2160 PNG of {output / MB:.1f} MB; RSS sampled every 20 ms",
            "jobs": jobs,
            "bytes_in_flight_mb": round(in_flight / MB, 1),
            "peak_rss_mb": round(worker.peak_bytes / MB, 1),
            "peak_over_in_flight": round(worker.peak_bytes / in_flight, 2)}


def worker_batch_size(template: Template) -> int:
    return int(template.parameters["WorkerBatchSize"]["Default"])


def worker_memory(stack: LoopbackStack, account: Account, batch: int) -> dict[str, Any]:
    """The worker's peak for one heavy job, then for a batch of `batch` of them: memory per job is the difference
    over the extra jobs, and the environment's own share is what one job's peak leaves."""
    one = worker_peak_rss(stack, account, 1)
    many = worker_peak_rss(stack, account, batch)
    per_job = (many["peak_rss_mb"] - one["peak_rss_mb"]) / (batch - 1)
    return {"one_job": one, "batch": many, "per_job_mb": round(per_job, 1),
            "environment_mb": round(one["peak_rss_mb"] - per_job, 1)}


def api_peak_rss(stack: LoopbackStack, account: Account) -> dict[str, Any]:
    """The api function's peak RSS for about the largest body it can be given: a multipart edit of a 4.3 MB PNG
    (base64 in the event, it nears Lambda's 6 MB payload limit)."""
    image = png_of_bytes(4_300_000, 9)
    api_environments = stack.function_pool("ApiFunction").busy_pids
    with httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {account.api_key}"},
                      timeout=120) as client, RssSampler(api_environments, interval=0.02) as api:
        response = client.post("/v1/images/edits", files=edit_files(image),
                               data={"prompt": PROMPT, "size": "1024x1024", "quality": "low"})
        assert response.status_code == 202, response.text
    return {"inputs": f"multipart edit of one {len(image) / MB:.1f} MB PNG",
            "peak_rss_mb": round(api.peak_bytes / MB, 1)}


# --- one job's AWS requests (moto's recorder) -------------------------------------------------------------------

BENCH_CALLER = "bench"  # the app id of the bench's own AWS client: its requests are not the job's


def _recording(stack: LoopbackStack) -> Callable[[str], httpx.Response]:
    recorder = f"{stack.aws_endpoint_url}/moto-api/recorder"
    return lambda verb: (httpx.get if verb == "download-recording" else httpx.post)(f"{recorder}/{verb}")


def _wait_in_table(stack: LoopbackStack, job_id: str, deadline_seconds: float = 60) -> None:
    """Until the job's item has ended, read by the bench's own client (left out of the count): polling through the
    API would put the bench's GETs in the job's requests."""
    dynamodb = stack.aws_client("dynamodb", app_id=BENCH_CALLER)
    key = {"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": "JOB"}}
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        item = dynamodb.get_item(TableName=stack.resources.ref("Table"), Key=key, ConsistentRead=True).get("Item")
        if item and item["status"]["S"] in ("succeeded", "failed", "canceled"):
            return
        time.sleep(0.1)
    raise TimeoutError(f"job {job_id} did not end within {deadline_seconds} s")


def recorded_job(stack: LoopbackStack, account: Account, image: bytes,
                 ) -> tuple[cost_model.AwsRequests, int, int, cost_model.AwsRequests]:
    """The AWS requests of one async edit (submit, its delivery and run, by caller), and separately of one GET of
    it (a status poll); also the submit's body bytes and the output's bytes."""
    recorder = _recording(stack)
    recorder("reset-recording")
    with httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {account.api_key}"},
                      timeout=120) as client:
        request = client.build_request("POST", "/v1/images/edits", files=edit_files(image),
                                       data={"prompt": PROMPT, "size": "1024x1024", "quality": "medium"})
        body_bytes = len(request.read())
        recorder("start-recording")
        response = client.send(request)
        assert response.status_code == 202, response.text
        job_id = response.json()["id"]
        _wait_in_table(stack, job_id)
        time.sleep(1)  # the worker's last writes and the message's delete
        recorder("stop-recording")
        job_recording = cost_model.parse_recording(recorder("download-recording").text)
        recorder("reset-recording")
        recorder("start-recording")
        view = client.get(f"/v1/jobs/{job_id}").json()
        recorder("stop-recording")
        poll_recording = cost_model.parse_recording(recorder("download-recording").text)
        recorder("reset-recording")
    Path("moto_recording").unlink(missing_ok=True)  # moto's recorder writes into its working directory (ours)
    dynamodb = stack.aws_client("dynamodb", app_id=BENCH_CALLER)
    table = stack.resources.ref("Table")
    sizes = {}
    for key in cost_model.recorded_keys(job_recording + poll_recording):
        item = dynamodb.get_item(TableName=table, Key=key).get("Item")
        sizes[cost_model.item_key(key)] = len(json.dumps(item)) if item else 0
    bucket = stack.resources.ref("Bucket")
    usage = cost_model.count_requests(job_recording, sizes, bucket, leave_out=[BENCH_CALLER])
    poll = cost_model.count_requests(poll_recording, sizes, bucket, leave_out=[BENCH_CALLER])
    return usage, body_bytes, len(httpx.get(view["data"][0]["url"], timeout=60).content), poll


def requests_figures(usage: cost_model.AwsRequests, poll: cost_model.AwsRequests) -> dict[str, Any]:
    return {"inputs": "one async edit of a 1 MB PNG through the stack (moto's recorder; callers by User-Agent app id)",
            "job": usage.as_dict(), "status_poll": poll.as_dict()}


# --- main -----------------------------------------------------------------------------------------------------


def median_of(durations: dict[str, list[float]], function: str) -> float:
    values = durations.get(function) or []
    return statistics.median(values) if values else 0.0


def cost(measured: dict[str, Any], usage: cost_model.AwsRequests, template: Template,
         worker_rss: dict[str, Any]) -> dict[str, Any]:
    prices = cost_model.aws_prices()
    memory = {fid: spec.memory_size for fid, spec in template.functions.items()}
    parameters = template.parameters
    worker_jobs = cost_model.jobs_per_invocation(batch_size=worker_batch_size(template),
                                                 memory_mb=memory["WorkerFunction"],
                                                 environment_mb=worker_rss["environment_mb"],
                                                 per_job_mb=worker_rss["per_job_mb"])
    max_wait = float(parameters["MaxWaitSeconds"].get("Default", 25))
    sync_max_wait = float(parameters["SyncMaxWaitSeconds"].get("Default", 300))
    stage = template.body["Mappings"]["StageSettings"]["prod"]
    # The input kept InputExpiryDays, the output OutputExpiryDays (prod lifecycle rules).
    storage = (measured["input_bytes"] * stage["InputExpiryDays"] + measured["output_bytes"] * stage["OutputExpiryDays"]
               ) / 1e9 / 30
    qualities = cost_model.quality_prices_usd()
    table: dict[str, Any] = {}
    for latency in (60, 150):
        for scenario in ("async", "wait", "sync", "async_upstream"):
            parts = cost_model.job_cost(latency=latency, scenario=scenario, measured=measured, memory=memory,
                                        requests=usage, poll_every=5, max_wait=max_wait, sync_max_wait=sync_max_wait,
                                        storage_gb_months=storage, prices=prices, worker_jobs=worker_jobs)
            total = sum(parts.values())
            table[f"{scenario}_{latency}s"] = {
                "usd": round(total, 6), "parts_usd": {k: round(v, 7) for k, v in parts.items()},
                "share_of_price": {q: round(total / usd, 4) for q, usd in qualities.items()}}
    checked = f"{prices['region']} list prices checked {prices['checked']} (tooling/aws_prices.json)"
    return {"inputs": {"prices": checked,
                       "memory_mb": memory, "measured": measured, "per_job_requests": usage.as_dict(),
                       "quality_price_usd": qualities, "async_poll_every_s": 5, "max_wait_s": max_wait,
                       "sync_max_wait_s": sync_max_wait, "storage_gb_months": round(storage, 6),
                       "worker_jobs_per_invocation": worker_jobs},
            "per_job": table}


def print_cold_init(init: dict[str, Any]) -> None:
    print(f"cold init (import + first client), {init['inputs']}:")
    print(f"  load average {init['load_average']}")
    print(f"  bare import boto3 + client   {init['bare_boto3_ms']:7.1f} ms")
    for name, row in init["functions"].items():
        label = "floor (Powertools + pydantic)" if name == "floor" else name
        print(f"  {label:<28} {row['ms']:7.1f} ms  {row['over_bare']:.2f}x")


def print_overhead(over: dict[str, Any]) -> None:
    print(f"platform overhead per job, {over['inputs']}:")
    for key in sorted(k for k in over if k.startswith("c")):
        row = over[key]
        print(f"  concurrency {key[1:]}, {row['jobs']} jobs each: direct p50 {row['direct']['p50_ms']:.0f} ms")
        for mode in ("async_poll_50ms", "prefer_wait"):
            m = row[mode]
            print(f"    {mode:<16} +p50 {m['p50_ms']:6.0f} ms  +p95 {m['p95_ms']:6.0f} ms  "
                  f"({m['p50_share_of_provider_call'] * 100:.1f} % of the call)")


def print_latency(sub: dict[str, Any]) -> None:
    print(f"latency, {sub['inputs']}:")
    for key, row in sub.items():
        if key != "inputs":
            label = f"{key} ({row['bytes'] / MB:.1f} MB)" if "bytes" in row else key
            print(f"  {label:<26} p50 {row['p50_ms']:6.0f} ms  p95 {row['p95_ms']:6.0f} ms  (n={row['n']})")


def print_requests(requests: dict[str, Any]) -> None:
    """AWS requests by kind (rows) and caller (columns), for the job and for one status poll."""
    print(f"AWS requests, {requests['inputs']}:")
    for label, usage in (("per job", requests["job"]), ("per status poll", requests["status_poll"])):
        callers = sorted(usage["by_caller"])
        print(f"  {label}: {sum(usage['operations'].values())} requests, {usage['dynamodb_rru']:g} RRU, "
              f"{usage['dynamodb_wru']:g} WRU")
        print(f"    {'kind':<30}" + "".join(f"{c:>22}" for c in callers) + f"{'total':>8}")
        for operation, total in sorted(usage["operations"].items()):
            print(f"    {operation:<30}" + "".join(f"{usage['by_caller'][c].get(operation, 0):>22}" for c in callers)
                  + f"{total:>8}")


def print_figures(figures: dict[str, Any]) -> None:
    print_cold_init(figures["cold_init"])
    print_overhead(figures["overhead"])
    print_latency(figures["latency"])
    thr = figures["throughput"]
    print(f"throughput, {thr['inputs']}: {thr['jobs_per_second']} jobs/s ({thr['succeeded']} in {thr['seconds']} s)")
    if "contention" in figures:
        print_contention(figures["contention"])
    memory = figures["worker_rss"]
    for rss in (memory["one_job"], memory["batch"]):
        print(f"worker memory, {rss['inputs']}: peak {rss['peak_rss_mb']} MB "
              f"over {rss['bytes_in_flight_mb']} MB in flight = {rss['peak_over_in_flight']}x")
    print(f"  per job {memory['per_job_mb']} MB, the environment's own {memory['environment_mb']} MB")
    print(f"api memory, {figures['api_rss']['inputs']}: peak {figures['api_rss']['peak_rss_mb']} MB")
    print_requests(figures["requests"])
    model = figures["cost"]
    print(f"AWS cost per job, {model['inputs']['prices']}; measured: {json.dumps(model['inputs']['measured'])}")
    print(f"  memory (MB): {json.dumps(model['inputs']['memory_mb'])}; worker jobs per invocation under load: "
          f"{model['inputs']['worker_jobs_per_invocation']} (WorkerBatchSize, within the measured memory per job)")
    print(f"  requests per job: {json.dumps(model['inputs']['per_job_requests'])}")
    qualities = model["inputs"]["quality_price_usd"]
    print(f"  {'scenario':<19} {'USD/job':>10}  " + "  ".join(f"{q} (${p:g})".rjust(16) for q, p in qualities.items())
          + "   lambda / http_api / dynamodb / sqs / s3")
    for name, row in model["per_job"].items():
        parts = " / ".join(f"{v:.6f}" for v in row["parts_usd"].values())
        print(f"  {name:<19} {row['usd']:10.6f}  "
              + "  ".join(f"{row['share_of_price'][q] * 100:15.2f}%" for q in qualities) + f"   {parts}")


def print_contention(figure: dict[str, Any]) -> None:
    print(f"contention, {figure['inputs']}:")
    for key, cell in figure.items():
        if key == "inputs":
            continue
        refused = " ".join(f"{status}:{n}" for status, n in cell["refused"].items() if n) or "none"
        print(f"  {cell['accounts']} account(s), concurrency {cell['concurrency']:>2}: "
              f"{cell['submits_per_second']:6.1f} submits/s ({cell['accepted']}/{cell['submits']} accepted)  "
              f"p50 {cell['p50_ms']:5d} ms  p95 {cell['p95_ms']:5d} ms  refused {refused}")
        if cell["refusal_codes"]:
            print(f"    refusals: {json.dumps(cell['refusal_codes'])}")
        for kind in ("reserve", "settle"):
            histogram = cell[f"tries_per_{kind}"]
            print(f"    tries per {kind:<7} " + "  ".join(f"{tries}:{n}" for tries, n in histogram.items()))


STACK_SECTIONS = ("overhead", "latency", "requests")


def only(figure: str, *, contention_submits: int = CONTENTION_SUBMITS,
         contention_concurrency: Sequence[int] = CONTENTION_CONCURRENCY,
         contention_accounts: Sequence[int] = CONTENTION_ACCOUNTS) -> dict[str, Any]:
    """One figure, for comparing a change's effect on it without the whole run."""
    if figure == "cold_init":
        return cold_init()
    if figure == "upstream_lag":  # upstream finished -> job succeeded: sync, async with callbacks, polls only
        lag = bench_streaming.upstream_lag()
        bench_streaming.print_upstream_lag(lag)
        return lag
    if figure == "streaming":  # time to the first partial image vs the completed one, 20 s stand-in
        partial = bench_streaming.first_partial()
        bench_streaming.print_first_partial(partial)
        return partial
    if figure == "contention":
        settings = LocalSettings(PORT=0, RETOUCH_LOCAL_SYNC_PORT=0, RETOUCH_LOCAL_PROVIDER_DELAY=0)
        log_path = Path(tempfile.mkdtemp(prefix="retouch-bench-")) / "stack.log"
        with LoopbackStack.from_settings(settings, quiet=True, log_path=log_path,
                                         parameter_overrides=CONTENTION_PARAMETERS) as stack:
            result = contention(stack, StackLog(log_path), contention_submits, contention_concurrency,
                                contention_accounts)
        print_contention(result)
        return result
    settings = LocalSettings(PORT=0, RETOUCH_LOCAL_SYNC_PORT=0, RETOUCH_LOCAL_PROVIDER_DELAY=1,
                             RETOUCH_LOCAL_POLLER_CONCURRENCY=1)
    with LoopbackStack.from_settings(settings, quiet=True) as stack:
        account = open_account(stack, credit_micros=10_000_000_000)
        return worker_memory(stack, account, worker_batch_size(stack.template))


def sections(names: Sequence[str], jobs: int, concurrencies: Sequence[int]) -> None:
    """The stack's sections named (overhead, latency, requests) on one stack, printed as `make bench` prints them."""
    settings = LocalSettings(PORT=0, RETOUCH_LOCAL_SYNC_PORT=0, RETOUCH_LOCAL_PROVIDER_DELAY=PROVIDER_DELAY,
                             RETOUCH_LOCAL_POLLER_CONCURRENCY=8)
    log_path = Path(tempfile.mkdtemp(prefix="retouch-bench-")) / "stack.log"
    print(f"load average at start: {[round(x, 2) for x in os.getloadavg()]}")
    with LoopbackStack.from_settings(settings, quiet=True, log_path=log_path,
                                     parameter_overrides=OVERHEAD_PARAMETERS) as stack:
        account = open_account(stack, credit_micros=10_000_000_000)
        if "overhead" in names:
            over = overhead(stack, account, png_of_bytes(1 * MB, 1), jobs, StackLog(log_path), concurrencies)
            durations = over.pop("_durations")
            print_overhead(over)
            for series, by_function in durations.items():
                print(f"    {series}: median invocation ms " + ", ".join(
                    f"{name} {median_of(by_function, name) * 1000:.0f}" for name in sorted(by_function)))
        stack.provider.delay = 0
        if "latency" in names:
            print_latency(submit_latency(stack, account, {"1MB": png_of_bytes(1 * MB, 1)}, jobs))
        if "requests" in names:
            usage, _, _, poll = recorded_job(stack, account, png_of_bytes(1 * MB, 1))
            print_requests(requests_figures(usage, poll))
    print(f"load average at end: {[round(x, 2) for x in os.getloadavg()]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, default=ROOT / "bench.json", help="where the figures go as JSON")
    parser.add_argument("--jobs", type=int, default=20, help="jobs per overhead and latency series (>= 20)")
    parser.add_argument("--only", choices=["cold_init", "worker_rss", "contention", "upstream_lag", "streaming"],
                        help="measure only this figure (printed as JSON; bench.json is left as it is)")
    parser.add_argument("--contention-submits", type=int, default=CONTENTION_SUBMITS,
                        help="submits per cell of the contention figure (e.g. 2000 for a long single-account run)")
    parser.add_argument("--contention-accounts", type=int, nargs="+", default=list(CONTENTION_ACCOUNTS),
                        help="the contention figure's account counts (e.g. 1 for the single-account run alone)")
    parser.add_argument("--contention-concurrency", type=int, nargs="+", default=list(CONTENTION_CONCURRENCY),
                        help="the contention figure's concurrencies")
    parser.add_argument("--sections", nargs="+", choices=STACK_SECTIONS,
                        help="run only these sections of the stack's figures, on one stack, printed (bench.json is "
                             "left as it is)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8],
                        help="the overhead section's concurrencies (with --sections)")
    args = parser.parse_args()
    if args.only:
        print(json.dumps(only(args.only, contention_submits=args.contention_submits,
                              contention_concurrency=args.contention_concurrency,
                              contention_accounts=args.contention_accounts), indent=2))
        return
    if args.sections:
        sections(args.sections, args.jobs, args.concurrency)
        return
    started = time.monotonic()
    figures: dict[str, Any] = {"commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=False,
                                                        capture_output=True, text=True).stdout.strip()}
    figures["cold_init"] = cold_init()
    settings = LocalSettings(PORT=0, RETOUCH_LOCAL_SYNC_PORT=0, RETOUCH_LOCAL_PROVIDER_DELAY=PROVIDER_DELAY,
                             RETOUCH_LOCAL_POLLER_CONCURRENCY=8)
    log_path = Path(tempfile.mkdtemp(prefix="retouch-bench-")) / "stack.log"
    images = {"1MB": png_of_bytes(1 * MB, 1), "4MB": png_of_bytes(4 * MB, 4)}
    with LoopbackStack.from_settings(settings, quiet=True, log_path=log_path,
                                     parameter_overrides={**OVERHEAD_PARAMETERS, **CONTENTION_PARAMETERS}) as stack:
        figures["stack"] = {"poller_concurrency": settings.poller_concurrency,
                            "max_environments": settings.max_environments, "log": str(log_path)}
        account = open_account(stack, credit_micros=10_000_000_000)
        log = StackLog(log_path)
        over = overhead(stack, account, images["1MB"], args.jobs, log)
        durations = over.pop("_durations")
        figures["overhead"] = over
        stack.provider.delay = 0
        figures["latency"] = submit_latency(stack, account, images, args.jobs)
        figures["throughput"] = throughput(stack, account, 200, 32)
        figures["contention"] = contention(stack, log, args.contention_submits, args.contention_concurrency)
        figures["worker_rss"] = worker_memory(stack, account, worker_batch_size(stack.template))
        usage, body_bytes, output_bytes, poll = recorded_job(stack, account, images["1MB"])
        figures["requests"] = requests_figures(usage, poll)
        figures["api_rss"] = api_peak_rss(stack, account)  # after the recording: its job would run into it
        polled = durations["async_poll_50ms_c1"]
        measured = {
            "api_submit_s": round(median_of(polled, "api"), 4),
            "status_get_s": round(median_of(polled, "status"), 4),
            "authorizer_s": round(median_of(polled, "authorizer"), 4),
            "worker_overhead_s": round(median_of(polled, "worker") - PROVIDER_DELAY, 4),
            "submit_http_api_units": math.ceil(body_bytes / cost_model.aws_prices()["http_api"]["metered_bytes"]),
            "status_get_rru": 1,
            "input_bytes": len(images["1MB"]),
            "output_bytes": output_bytes,
        }
        figures["cost"] = cost(measured, usage, stack.template, figures["worker_rss"])
    figures["seconds"] = round(time.monotonic() - started)
    print_figures(figures)
    args.json.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"({figures['seconds']} s; figures written to {args.json})")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
