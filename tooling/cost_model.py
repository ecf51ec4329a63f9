"""What one job costs in AWS at list prices, from figures `scripts/bench.py` measured, as a share of its price.

Inputs: each function's measured billed duration and its MemorySize in template.yaml; the AWS requests one job made
against the local emulation (moto's request recorder); the prices in tooling/aws_prices.json (dated, with sources);
the price charged per quality in retouch/billing/prices.json; the jobs one worker invocation holds under load
(`jobs_per_invocation`: the configured batch, as far as the worker's measured memory per job lets it).
"""

from __future__ import annotations

import base64
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
AWS_PRICES = ROOT / "tooling" / "aws_prices.json"
QUALITY_PRICES = ROOT / "layers" / "common" / "retouch" / "billing" / "prices.json"
MICROS = 1_000_000


@dataclass
class AwsRequests:
    """The metered AWS usage of one job (what moto's recorder saw), in billing units."""

    dynamodb_rru: float = 0.0
    dynamodb_wru: float = 0.0
    sqs_requests: int = 0
    s3_put_post: int = 0
    s3_get: int = 0
    operations: Counter[str] = field(default_factory=Counter)
    # The same operations by caller: a function's short name (its boto3 User-Agent's `app/<name>`), or
    # ESM_CALLER for requests without one (the local stack's SQS pollers, Lambda's event source mapping on AWS).
    by_caller: dict[str, Counter[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"dynamodb_rru": self.dynamodb_rru, "dynamodb_wru": self.dynamodb_wru,
                "sqs_requests": self.sqs_requests, "s3_put_post": self.s3_put_post, "s3_get": self.s3_get,
                "operations": dict(sorted(self.operations.items())),
                "by_caller": {caller: dict(sorted(ops.items())) for caller, ops in sorted(self.by_caller.items())}}

    def _count(self, caller: str, operation: str) -> None:
        self.operations[operation] += 1
        self.by_caller.setdefault(caller, Counter())[operation] += 1


ESM_CALLER = "event-source-mapping"


def caller(entry: Mapping[str, Any]) -> str:
    """Who made a recorded request: the `app/<name>` its boto3 User-Agent carries (AWS_SDK_UA_APP_ID), else
    ESM_CALLER."""
    headers = {k.lower(): v for k, v in (entry.get("headers") or {}).items()}
    for part in str(headers.get("user-agent", "")).split():
        if part.startswith("app/"):
            return part.removeprefix("app/")
    return ESM_CALLER


def _body(entry: Mapping[str, Any]) -> bytes:
    raw = entry.get("body") or ""
    return base64.b64decode(raw) if entry.get("body_encoded") else raw.encode()


def count_requests(recording: Iterable[Mapping[str, Any]], item_bytes: Mapping[str, int], bucket: str,
                   *, leave_out: Iterable[str] = ()) -> AwsRequests:
    """Billing units of recorded requests. DynamoDB: a write costs 1 WRU per KB of the larger of the stored item
    (`item_bytes`, by key) and the request, twice in a transaction; a strongly consistent read 1 RRU per 4 KB
    (items here are under 4 KB), a transactional one 2. SQS: the poller's empty long polls are left out (idle, not
    per job); S3: PUT/POST and GET/HEAD are metered, DELETE is free. Requests of the callers in `leave_out` (the
    bench's own) are not counted."""
    usage = AwsRequests()
    skipped = set(leave_out)
    for entry in recording:
        who = caller(entry)
        if who in skipped:
            continue
        headers = {k.lower(): v for k, v in (entry.get("headers") or {}).items()}
        target = headers.get("x-amz-target", "")
        body = _body(entry)
        if target.startswith("DynamoDB_"):
            operation = target.split(".", 1)[1]
            usage._count(who, f"dynamodb.{operation}")
            _dynamodb_units(usage, operation, json.loads(body or b"{}"), item_bytes)
        elif target.startswith("AmazonSQS."):
            operation = target.split(".", 1)[1]
            if operation == "ReceiveMessage":
                continue  # mostly the pollers' idle long polls: a job's receive is counted with its delete below
            usage._count(who, f"sqs.{operation}")
            usage.sqs_requests += max(1, math.ceil(len(body) / 65536))
            if operation.startswith("DeleteMessage"):
                usage.sqs_requests += 1  # the receive that delivered it
        elif _is_bucket_request(entry.get("url", ""), bucket):
            method = entry.get("method", "GET")
            usage._count(who, f"s3.{method}")
            if method in ("PUT", "POST"):
                usage.s3_put_post += 1
            elif method in ("GET", "HEAD"):
                usage.s3_get += 1
    return usage


def _is_bucket_request(url: str, bucket: str) -> bool:
    parts = urlsplit(url)
    host = parts.hostname or ""
    return parts.path.startswith(f"/{bucket}") or host == bucket or host.startswith(f"{bucket}.")


def _dynamodb_units(usage: AwsRequests, operation: str, body: Mapping[str, Any],
                    item_bytes: Mapping[str, int]) -> None:
    def write_units(request: Mapping[str, Any]) -> int:
        key = request.get("Key") or {k: v for k, v in (request.get("Item") or {}).items() if k in ("pk", "sk")}
        stored = item_bytes.get(item_key(key), 0)
        return max(1, math.ceil(max(stored, len(json.dumps(request))) / 1024))

    if operation in ("GetItem", "Query", "Scan"):
        usage.dynamodb_rru += 1 if body.get("ConsistentRead") else 0.5
    elif operation == "BatchGetItem":
        usage.dynamodb_rru += sum(len(spec.get("Keys", [])) for spec in body.get("RequestItems", {}).values())
    elif operation == "TransactGetItems":
        usage.dynamodb_rru += 2 * len(body.get("TransactItems", []))
    elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
        usage.dynamodb_wru += write_units(body)
    elif operation == "TransactWriteItems":
        for item in body.get("TransactItems", []):
            [(kind, request)] = item.items()
            usage.dynamodb_wru += 0 if kind == "ConditionCheck" else 2 * write_units(request)
    elif operation == "BatchWriteItem":
        for requests in body.get("RequestItems", {}).values():
            usage.dynamodb_wru += sum(write_units(next(iter(r.values()))) for r in requests)


def parse_recording(text: str) -> list[dict[str, Any]]:
    """moto's recording: JSON objects one after another (not always a line each)."""
    decoder, entries, index = json.JSONDecoder(), [], 0
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            return entries
        entry, index = decoder.raw_decode(text, index)
        entries.append(entry)


def item_key(key: Mapping[str, Any]) -> str:
    return json.dumps(key, sort_keys=True)


def recorded_keys(recording: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The DynamoDB keys the recorded writes touched (their stored size decides their write units)."""
    keys: dict[str, dict[str, Any]] = {}
    for entry in recording:
        target = {k.lower(): v for k, v in (entry.get("headers") or {}).items()}.get("x-amz-target", "")
        if not target.startswith("DynamoDB_"):
            continue
        body = json.loads(_body(entry) or b"{}")
        requests = [body] + [next(iter(i.values())) for i in body.get("TransactItems", [])]
        for request in requests:
            key = request.get("Key") or {k: v for k, v in (request.get("Item") or {}).items() if k in ("pk", "sk")}
            if key:
                keys[item_key(key)] = key
    return list(keys.values())


@dataclass(frozen=True)
class FunctionCost:
    memory_mb: int
    billed_seconds: float
    invocations: float


def lambda_usd(functions: Iterable[FunctionCost], prices: Mapping[str, Any]) -> float:
    price = prices["lambda_arm64"]
    return sum(f.invocations * (f.memory_mb / 1024 * f.billed_seconds * price["per_gb_second"] + price["per_request"])
               for f in functions)


def jobs_per_invocation(*, batch_size: int, memory_mb: int, environment_mb: float, per_job_mb: float) -> int:
    """Jobs one worker invocation holds when the queue has work (batches full): the event source's BatchSize, as far
    as the worker's MemorySize holds the environment's own memory plus each job's measured peak. A batch's jobs run
    at once (retouch/jobs/batch.py), so the invocation lasts as long as one job and its bill is shared by them all.
    At a trickle (one job in a batching window) an invocation holds one job: the figures at 1 are the bound."""
    fits = math.floor((memory_mb - environment_mb) / per_job_mb) if per_job_mb > 0 else batch_size
    return max(1, min(batch_size, fits))


# An upstream with a queue (ModelsLab, Oxen, fal): the worker submits, returns, and polls on delayed SQS messages.
UPSTREAM_POLL_EVERY_S = 20  # the provider's eta / our poll schedule (as scripts/bench_upstream_idle.py)
UPSTREAM_EXCHANGE_S = 0.3  # one HTTP exchange with the upstream (submit or status check)
SQS_REQUESTS_PER_POLL = 3  # the delayed SendMessage, its ReceiveMessage and DeleteMessage
WRU_PER_POLL = 4  # the poll claim and the handle's update (1-2 write units each, rounded up)


def job_cost(*, latency: float, scenario: str, measured: Mapping[str, Any], memory: Mapping[str, int],
             requests: AwsRequests, poll_every: float, max_wait: float, sync_max_wait: float,
             storage_gb_months: float, prices: Mapping[str, Any], worker_jobs: int = 1) -> dict[str, float]:
    """USD per job, by component. scenario: `async` (202, then GET every `poll_every` s), `wait` (Prefer: wait up
    to `max_wait` on the api function, then polling), `sync` (the sync function holds up to `sync_max_wait`), or
    `async_upstream` (as `async`, through an upstream with a queue: the worker is billed per submit and per poll,
    each charged the measured worker overhead plus one exchange — an upper bound — instead of the whole call).
    `worker_jobs`: jobs per worker invocation (`jobs_per_invocation`); each job pays that share of an invocation,
    which lasts as long as one job (its records run at once), submits and polls alike."""
    submit, status, authorize = measured["api_submit_s"], measured["status_get_s"], measured["authorizer_s"]
    upstream_polls = math.ceil(latency / UPSTREAM_POLL_EVERY_S) if scenario == "async_upstream" else 0
    if scenario == "async_upstream":
        worker = FunctionCost(memory["WorkerFunction"], measured["worker_overhead_s"] + UPSTREAM_EXCHANGE_S,
                              (1 + upstream_polls) / worker_jobs)
        scenario = "async"
    else:
        worker = FunctionCost(memory["WorkerFunction"], measured["worker_overhead_s"] + latency, 1 / worker_jobs)
    held = {"async": 0.0, "wait": min(latency, max_wait), "sync": min(latency, sync_max_wait)}[scenario]
    unpolled = max(0.0, latency - held)
    polls = math.ceil(unpolled / poll_every) if unpolled else 0
    entry = "SyncFunction" if scenario == "sync" else "ApiFunction"
    functions = [worker, FunctionCost(memory[entry], submit + held, 1),
                 FunctionCost(memory["StatusFunction"], status, polls)]
    gateway_requests = polls + (0 if scenario == "sync" else measured["submit_http_api_units"])
    if scenario != "sync":  # the authorizer's answer is cached 30 s per key
        functions.append(FunctionCost(memory["AuthorizerFunction"], authorize, 1 + math.floor(unpolled / 30)))
    dynamo = prices["dynamodb_on_demand"]
    s3 = prices["s3_standard"]
    return {
        "lambda": lambda_usd(functions, prices),
        "http_api": gateway_requests * prices["http_api"]["per_request"],
        "dynamodb": (requests.dynamodb_rru + polls * measured["status_get_rru"]) * dynamo["per_read_request_unit"]
                    + (requests.dynamodb_wru + upstream_polls * WRU_PER_POLL) * dynamo["per_write_request_unit"],
        "sqs": (requests.sqs_requests + upstream_polls * SQS_REQUESTS_PER_POLL) * prices["sqs_standard"]["per_request"],
        "s3": requests.s3_put_post * s3["per_put_post_list"] + requests.s3_get * s3["per_get"]
              + storage_gb_months * s3["per_gb_month"],
    }


def quality_prices_usd(model: str = "gpt-image-2") -> dict[str, float]:
    """The price charged for one base-size image per quality (before markup), in USD."""
    document = json.loads(QUALITY_PRICES.read_text())
    return {quality: micros / MICROS for quality, micros in document["models"][model]["quality"].items()}


def aws_prices() -> dict[str, Any]:
    return json.loads(AWS_PRICES.read_text())
