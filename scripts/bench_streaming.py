"""Figures for streaming and callbacks, not tests (`python -m scripts.bench --only upstream_lag | streaming`).

- upstream_lag: the time from an upstream finishing (the stand-in's answer sent, or its asynchronous job's image
  ready) to the job reading `succeeded` in the table (read every 20 ms by the bench's own client), p50/p95 over
  `jobs` sequential edits, for a synchronous upstream (OpenAI), an asynchronous one with callbacks (fal's webhooks),
  the same with polls only (its callbacks sent to a closed port), and ModelsLab (polled after the `eta` it gives).
- streaming: one `images.edit(..., stream=True, partial_images=2)` with the openai SDK through the sync entry,
  against a stand-in taking `delay` seconds: when the first partial and the completed image reached the client.

Figures taken while other work shares the machine are noisy; the load average is printed beside them.
"""

from __future__ import annotations

import io
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from local.load.generator import Account, open_account, percentile
from local.settings import LocalSettings
from local.stack import LoopbackStack

ROOT = Path(__file__).resolve().parents[1]
ROUTING = ROOT / "tests" / "fixtures" / "routing"
BENCH_CALLER = "bench"
TABLE_READ_SECONDS = 0.02
CLOSED_PORT_URL = "http://127.0.0.1:9"  # discard: nothing listens, so a callback sent there is lost at once


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), (90, 140, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def _stack(delay: float, routing: Path, **overrides: str) -> LoopbackStack:
    settings = LocalSettings(PORT=0, RETOUCH_LOCAL_SYNC_PORT=0, RETOUCH_LOCAL_PROVIDER_DELAY=delay)
    log_path = Path(tempfile.mkdtemp(prefix="retouch-bench-")) / "stack.log"
    return LoopbackStack.from_settings(settings, quiet=True, log_path=log_path,
                                       parameter_overrides={"RoutingDocument": str(routing), **overrides})


def _succeeded_at(stack: LoopbackStack, job_id: str, deadline_seconds: float = 120) -> tuple[float, dict[str, Any]]:
    """When the bench's own reads first saw the job succeeded (time.time()), and the item."""
    dynamodb = stack.aws_client("dynamodb", app_id=BENCH_CALLER)
    key = {"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": "JOB"}}
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        item = dynamodb.get_item(TableName=stack.resources.ref("Table"), Key=key, ConsistentRead=True).get("Item")
        if item and item["status"]["S"] in ("succeeded", "failed", "canceled"):
            if item["status"]["S"] != "succeeded":
                raise RuntimeError(f"job {job_id} ended {item['status']['S']}")
            return time.time(), item
        time.sleep(TABLE_READ_SECONDS)
    raise TimeoutError(f"job {job_id} did not end within {deadline_seconds} s")


def _upstream_job_id(item: dict[str, Any]) -> str:
    attempts = [attempt["M"] for attempt in item["upstream_attempts"]["L"]]
    [served] = [attempt for attempt in attempts if attempt["outcome"]["S"] == "succeeded"]
    return served["upstream_job_id"]["S"]


def _series(stack: LoopbackStack, account: Account, jobs: int,
            finished_at: Callable[[str], float | None]) -> dict[str, float]:
    lags = []
    image = _png()
    with httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {account.api_key}"},
                      timeout=60) as http:
        for _ in range(jobs):
            answer = http.post("/v1/images/edits", files=[("image[]", ("a.png", image, "image/png"))],
                               data={"prompt": f"bench {uuid.uuid4().hex[:8]}", "size": "1024x1024"})
            answer.raise_for_status()
            seen_at, item = _succeeded_at(stack, answer.json()["id"])
            finished = finished_at(_upstream_job_id(item))
            if finished is None:
                raise RuntimeError("the stand-in has no finish time for the job's upstream call")
            lags.append(seen_at - finished)
    return {"p50_s": round(percentile(lags, 0.5), 3), "p95_s": round(percentile(lags, 0.95), 3),
            "max_s": round(max(lags), 3), "jobs": jobs}


def upstream_lag(jobs: int = 10, delay: float = 2.0) -> dict[str, Any]:
    """Upstream finished -> job succeeded, per kind of upstream (see the module docstring)."""
    cases: list[tuple[str, Path, dict[str, str], str]] = [
        ("sync (openai)", ROUTING / "e2e.json", {}, "openai"),
        ("async + callbacks (fal)", ROUTING / "fal_first.json", {}, "fal"),
        ("async, polls only (fal)", ROUTING / "fal_first.json", {"UpstreamCallbackBaseUrl": CLOSED_PORT_URL}, "fal"),
        ("async, polls only (modelslab)", ROUTING / "modelslab_first.json", {}, "modelslab"),
    ]
    figures: dict[str, Any] = {"provider_delay_s": delay, "load_average_start": os.getloadavg()}
    for name, routing, overrides, upstream in cases:
        with _stack(delay, routing, **overrides) as stack:
            account = open_account(stack, credit_micros=10_000_000_000)
            if upstream == "openai":
                stand_in = stack.provider
                figures[name] = _series(stack, account, jobs, stand_in.answered_at.get)
            else:
                jobs_of = stack.upstreams.by_name[upstream].jobs
                figures[name] = _series(stack, account, jobs, jobs_of.ready_at.get)
    figures["load_average_end"] = os.getloadavg()
    return figures


def first_partial(delay: float = 20.0) -> dict[str, Any]:
    """One streamed edit with two partials through the sync entry, with the unmodified openai SDK."""
    import openai

    with _stack(delay, ROUTING / "e2e.json", ProviderTimeoutSeconds="120") as stack:
        client = openai.OpenAI(base_url=f"{stack.function_urls['SyncFunction']}/v1", api_key=stack.api_key,
                               max_retries=0, timeout=180)
        started = time.monotonic()
        arrivals = []
        for event in client.images.edit(model="gpt-image-2", image=("a.png", _png(), "image/png"), prompt="a hat",
                                        size="1024x1024", stream=True, partial_images=2):
            arrivals.append((event.type, round(time.monotonic() - started, 2)))
    return {"provider_delay_s": delay, "events": arrivals, "load_average": os.getloadavg()}


def print_upstream_lag(figures: dict[str, Any]) -> None:
    print(f"upstream finished -> job succeeded (stand-in delay {figures['provider_delay_s']} s, sequential jobs):")
    for name, row in figures.items():
        if isinstance(row, dict):
            print(f"  {name:<32} p50 {row['p50_s']:.3f} s   p95 {row['p95_s']:.3f} s   max {row['max_s']:.3f} s"
                  f"   ({row['jobs']} jobs)")
    print(f"  load average {figures['load_average_start']} -> {figures['load_average_end']}")


def print_first_partial(figures: dict[str, Any]) -> None:
    print(f"stream=true, partial_images=2, stand-in delay {figures['provider_delay_s']} s "
          f"(load average {figures['load_average']}):")
    for kind, at in figures["events"]:
        print(f"  {at:>7.2f} s  {kind}")
