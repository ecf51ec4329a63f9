"""Load and faults against a running local stack, over real HTTP: the fault-run test and `make bench` use it.

Everything is bounded (job counts, deadlines) and sent to loopback only. Faults ride in the prompt (the stand-in
provider's directives); worker processes are killed mid-job with SIGKILL; duplicate job messages go straight to the
jobs queue, as SQS's at-least-once delivery may produce them.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from local.stack import LoopbackStack

# What each fault directive must end as: (status, error code or None).
OUTCOMES: dict[str, tuple[str, str | None]] = {
    "": ("succeeded", None),
    "[fault:500x1]": ("succeeded", None),
    "[fault:429x1]": ("succeeded", None),
    "[fault:timeoutx1]": ("succeeded", None),
    "[fault:slowx1]": ("succeeded", None),
    "[fault:safety]": ("failed", "moderation_blocked"),
    "[fault:500]": ("failed", "provider_unavailable"),
}
FAULTS = [directive for directive in OUTCOMES if directive]
TERMINAL = frozenset({"succeeded", "failed", "canceled"})


@dataclass(frozen=True)
class Account:
    account_id: str
    api_key: str
    credit_micros: int


def open_account(stack: LoopbackStack, *, credit_micros: int, max_in_flight: int = 10_000,
                 requests_per_minute: int = 1_000_000) -> Account:
    """A fresh account with limits high enough that the load, not the limits, is measured."""
    from retouch.admin.accounts import create_account, issue_key
    from retouch.billing.charges import add_credit
    from retouch.data.accounts import AccountRepository
    from retouch.data.ledger import LedgerRepository

    table = stack.resources.ref("Table")
    account_id = f"acct_load{uuid.uuid4().hex[:20]}"
    accounts = AccountRepository(table, stack.aws_client("dynamodb"))
    create_account(accounts, "load", account_id=account_id, max_in_flight=max_in_flight,
                   requests_per_minute=requests_per_minute)
    add_credit(LedgerRepository(table, stack.aws_client("dynamodb")), account_id, credit_micros, note="load credit")
    return Account(account_id, issue_key(accounts, account_id).raw_key, credit_micros)


@dataclass
class Submission:
    prompt: str
    expected: tuple[str, str | None]
    status_code: int = 0
    job_id: str | None = None
    seconds: float = 0.0
    error: str | None = None


def plan(count: int, *, fault_share: float, rng: random.Random) -> list[Submission]:
    """`count` prompts, `fault_share` of them carrying one fault directive each (spread evenly over the kinds)."""
    faulted = round(count * fault_share)
    prompts = []
    for index in range(count):
        directive = FAULTS[index % len(FAULTS)] if index < faulted else ""
        prompts.append(Submission(prompt=f"load {uuid.uuid4().hex[:10]} {directive}".strip(),
                                  expected=OUTCOMES[directive]))
    rng.shuffle(prompts)
    return prompts


def client_for(base_url: str, api_key: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=60,
                        limits=httpx.Limits(max_connections=64, max_keepalive_connections=64))


def submit_all(base_url: str, api_key: str, submissions: Sequence[Submission], *, concurrency: int,
               body: Callable[[str], dict[str, Any]] | None = None,
               on_accepted: Callable[[Submission], None] | None = None) -> None:
    """POST each submission as a generation, `concurrency` at a time; fills in status, job id and latency."""
    make_body = body or (lambda prompt: {"model": "gpt-image-2", "prompt": prompt, "quality": "low",
                                         "size": "1024x1024"})
    with client_for(base_url, api_key) as client:
        def one(submission: Submission) -> None:
            started = time.monotonic()
            try:
                response = client.post("/v1/images/generations", json=make_body(submission.prompt))
            except httpx.HTTPError as exc:
                submission.error = f"{type(exc).__name__}: {exc}"
                return
            finally:
                submission.seconds = time.monotonic() - started
            submission.status_code = response.status_code
            if response.status_code == 202:
                submission.job_id = response.json()["id"]
                if on_accepted is not None:
                    on_accepted(submission)
            else:
                submission.error = response.text[:300]

        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(one, submissions))


# GETs in flight at once while waiting: each one past the status function's warm environments starts another (a cold
# start, over a second of CPU) that the jobs still running wait behind. The fault run's first round of 160 took 14.6 s
# with eight, 10.9 s with two (one run each, on a shared machine).
WAIT_POLL_CONCURRENCY = 2


def wait_for_end(base_url: str, api_key: str, job_ids: Iterable[str], *, deadline_seconds: float,
                 poll_seconds: float = 0.5) -> dict[str, dict[str, Any]]:
    """Each job as GET shows it once it ended (or as last seen when the deadline passes)."""
    pending = set(job_ids)
    last: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + deadline_seconds
    with client_for(base_url, api_key) as client, ThreadPoolExecutor(WAIT_POLL_CONCURRENCY) as pool:
        while pending:
            views = list(pool.map(lambda job_id: client.get(f"/v1/jobs/{job_id}").json(), sorted(pending)))
            for view in views:
                last[view["id"]] = view
                if view.get("status") in TERMINAL:
                    pending.discard(view["id"])
            if not pending or time.monotonic() >= deadline:
                break
            time.sleep(poll_seconds)
    return last


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class RssSampler:
    """The peak resident memory of one process (or of whichever processes `pid` names at each sample, e.g. a
    function's busy environments), sampled every `interval` seconds while the block runs."""

    def __init__(self, pid: int | Callable[[], Iterable[int]], interval: float = 0.2) -> None:
        self._pids: Callable[[], Iterable[int]] = pid if callable(pid) else (lambda: (pid,))
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self.peak_bytes = 0

    def __enter__(self) -> RssSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(2)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def _sample(self) -> None:
        for pid in self._pids():
            with contextlib.suppress(OSError):  # a process that ended has no more memory to count
                self.peak_bytes = max(self.peak_bytes, rss_bytes(pid))


@dataclass
class WorkerKiller:
    """Kills (SIGKILL) one worker environment that is running a job, every `every_seconds`, `kills` times."""

    stack: LoopbackStack
    kills: int
    every_seconds: float
    killed: list[int] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> WorkerKiller:
        self._thread = threading.Thread(target=self._run, name="worker-killer", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        pool = self.stack.function_pool("WorkerFunction")
        while len(self.killed) < self.kills and not self._stop.wait(self.every_seconds):
            busy = pool.busy_pids()
            if busy:
                pid = random.choice(busy)
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue
                self.killed.append(pid)


def send_duplicates(stack: LoopbackStack, job_ids: Iterable[str]) -> int:
    """A second message for each job, straight to the jobs queue (SQS may deliver a message twice)."""
    import json

    sqs = stack.aws_client("sqs")
    queue_url = stack.resources.queues["JobsQueue"]
    sent = 0
    for job_id in job_ids:
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"job_id": job_id}))
        sent += 1
    return sent


def reconcile_account(stack: LoopbackStack, account_id: str) -> list[Any]:
    """The billing reconciliation of one account (an empty list: its ledger, balance and jobs agree)."""
    from retouch.billing.reconcile import reconcile
    from retouch.data.ledger import LedgerRepository
    from retouch.data.usage import AccountJobs

    table = stack.resources.ref("Table")
    _, differences = reconcile(LedgerRepository(table, stack.aws_client("dynamodb")),
                               AccountJobs(table, stack.aws_client("dynamodb")), [account_id])
    return differences


def balance_micros(stack: LoopbackStack, account_id: str) -> tuple[int, int]:
    """(balance, in flight) of the account, strongly consistent."""
    from retouch.data.ledger import LedgerRepository

    account = LedgerRepository(stack.resources.ref("Table"), stack.aws_client("dynamodb")).get_account(account_id)
    assert account is not None
    return account.balance_micros, account.in_flight
