"""The worker's batches (jobs/batch.py) on fakes: a batch's records run at once, each with its own claim, lease,
heartbeat and message, and each fails alone."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from retouch.jobs.batch import MAX_RECORDS_AT_ONCE, JobBatch
from retouch.jobs.process import WorkerDeps
from retouch.observability import metric_names as names
from retouch.providers.base import ProviderResult, ProviderUnavailable
from tests.builders import load_event, queued_job
from tests.emf import Emitted
from tests.fakes import FakeJobQueue, FakeJobRepository, ProviderCall, ScriptedProvider, billing_over, rendered
from tests.fakes.routing import routing_deps
from tests.fakes.wiring import claimed

Build = Callable[..., WorkerDeps]
# Bounds every wait of these tests: a broken concurrency fails them within seconds instead of hanging.
WAIT_BOUND_SECONDS = 10


class BarrierProvider(ScriptedProvider):
    """Each call waits until `parties` calls are inside the provider at once (a bounded wait: past the bound the
    barrier breaks and the call raises), then `until()` must hold before it answers: the outcome scripted for its
    prompt in `by_prompt`, else the next scripted outcome."""

    def __init__(self, parties: int, *outcomes: ProviderResult | Exception,
                 until: Callable[[], bool] = lambda: True,
                 by_prompt: dict[str, ProviderResult | Exception] | None = None) -> None:
        super().__init__(*outcomes)
        self.by_prompt = dict(by_prompt or {})
        self.barrier = threading.Barrier(parties, timeout=WAIT_BOUND_SECONDS)
        self.until = until
        self.met_together = 0
        self.threads: set[str] = set()
        self._counting = threading.Lock()

    def generate(self, *, options: dict[str, Any]) -> ProviderResult:
        self.threads.add(threading.current_thread().name)
        self.barrier.wait()  # raises BrokenBarrierError unless every party gets here within the bound
        with self._counting:
            self.met_together += 1
        deadline = time.monotonic() + WAIT_BOUND_SECONDS
        while not self.until():
            if time.monotonic() > deadline:
                raise AssertionError("the condition the call waits for never held")
            time.sleep(0.005)
        outcome = self.by_prompt.pop(str(options.get("prompt")), None)
        if outcome is None:
            return super().generate(options=options)
        self.calls.append(ProviderCall("generate", options))
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


class RenewalsSeen(FakeJobRepository):
    """The fake repository, recording each lease renewal as (job id, claim token)."""

    def __init__(self) -> None:
        super().__init__()
        self.renewals: list[tuple[str, str]] = []

    def renew_lease(self, job_id: str, *, token: str, lease_until: int) -> bool:
        renewed = super().renew_lease(job_id, token=token, lease_until=lease_until)
        if renewed:
            self.renewals.append((job_id, token))
        return renewed


def generation(prompt: str) -> dict[str, Any]:
    return {"model": "gpt-image-2", "prompt": prompt, "n": 1, "size": "1024x1024", "output_format": "png",
            "response_format": "url"}


def sqs_batch(*messages: tuple[str, str]) -> dict[str, Any]:
    """An SQS event of (message id, job id) records, in events/sqs_job.json's shape."""
    [template] = load_event("sqs_job.json")["Records"]
    return {"Records": [dict(template, messageId=message_id, receiptHandle=f"rh-{message_id}",
                             body=json.dumps({"job_id": job_id})) for message_id, job_id in messages]}


def failed_items(response: PartialItemFailureResponse) -> list[str]:
    return sorted(str(item["itemIdentifier"]) for item in response["batchItemFailures"])


def worker_over(jobs: FakeJobRepository, queue: FakeJobQueue, provider: ScriptedProvider,
                worker_deps: Build, **overrides: Any) -> JobBatch:
    """The batch as the worker function builds it, over these fakes (`jobs` may be a subclass of the fixture's)."""
    deps = replace(worker_deps(provider), jobs=jobs, billing=billing_over(jobs),
                   routing=routing_deps([provider], jobs.record_attempts), **overrides)
    return JobBatch(deps, queue.delay_redelivery)


def test_a_batchs_records_wait_on_their_provider_calls_at_the_same_time(
        jobs: FakeJobRepository, queue: FakeJobQueue, worker_deps: Build) -> None:
    # Given two queued jobs whose provider calls each return only once both calls are in flight together
    first, second = queued_job(jobs), queued_job(jobs)
    provider = BarrierProvider(2, rendered(), rendered())
    batch = worker_over(jobs, queue, provider, worker_deps)

    # When one invocation gets both messages
    response = batch.handle(sqs_batch(("m1", first.job_id), ("m2", second.job_id)), context=LambdaContext())

    # Then both calls met inside the provider, on two threads, and both jobs succeeded with nothing to retry
    assert provider.met_together == 2 and len(provider.threads) == 2
    assert failed_items(response) == []
    assert [jobs.items[job.job_id]["status"] for job in (first, second)] == ["succeeded", "succeeded"]


def test_a_failing_record_is_reported_alone_while_its_siblings_succeed(
        jobs: FakeJobRepository, queue: FakeJobQueue, worker_deps: Build) -> None:
    # Given three jobs in one batch: the provider is down for one of them, and one message is not even JSON
    good, down = queued_job(jobs, request=generation("fine")), queued_job(jobs, request=generation("down"))
    provider = BarrierProvider(2, by_prompt={"fine": rendered(),
                                             "down": ProviderUnavailable("provider_unavailable", "503",
                                                                         retry_after=30)})
    batch = worker_over(jobs, queue, provider, worker_deps)
    event = sqs_batch(("ok", good.job_id), ("retry", down.job_id), ("poison", "x"))
    event["Records"][2]["body"] = "not json"

    # When the invocation runs them
    response = batch.handle(event, context=LambdaContext())

    # Then only the retried and the poison messages are reported; the good job ended, the other went back to queued
    assert failed_items(response) == ["poison", "retry"]
    assert jobs.items[good.job_id]["status"] == "succeeded"
    assert jobs.items[down.job_id]["status"] == "queued"
    # and only the retried message's next delivery was pushed out (to the provider's Retry-After)
    assert [seconds for receipt, seconds in queue.redeliveries if receipt == "rh-retry"][-1] >= 30
    assert [(receipt, seconds) for receipt, seconds in queue.redeliveries if receipt == "rh-ok"] == [claimed("rh-ok")]


def test_each_record_keeps_its_own_lease_and_message_while_they_wait_together(
        queue: FakeJobQueue, worker_deps: Build) -> None:
    # Given two jobs in one batch, beating fast, whose provider calls return once each job's lease was renewed
    jobs = RenewalsSeen()
    first, second = queued_job(jobs), queued_job(jobs)
    ids = {first.job_id, second.job_id}
    provider = BarrierProvider(2, rendered(), rendered(), until=lambda: {j for j, _ in jobs.renewals} == ids)
    batch = worker_over(jobs, queue, provider, worker_deps, heartbeat_every=0.01)

    # When one invocation runs them
    response = batch.handle(sqs_batch(("m1", first.job_id), ("m2", second.job_id)), context=LambdaContext())

    # Then each job's lease was renewed under its own claim token (two claims, two tokens)
    assert failed_items(response) == []
    tokens = {job_id: {token for j, token in jobs.renewals if j == job_id} for job_id in ids}
    assert all(len(seen) == 1 for seen in tokens.values()) and len(set.union(*tokens.values())) == 2
    # and each message's visibility was held by its own heartbeat, beyond the hold its claim set
    for receipt in ("rh-m1", "rh-m2"):
        assert queue.redeliveries.count(claimed(receipt)) >= 2


def test_each_records_log_lines_carry_its_own_job_id_and_its_metrics_all_count(
        jobs: FakeJobRepository, queue: FakeJobQueue, worker_deps: Build,
        emitted: Callable[[], Emitted]) -> None:
    # Given two jobs in one batch, whose calls overlap
    first, second = queued_job(jobs), queued_job(jobs)
    provider = BarrierProvider(2, rendered(), rendered())
    batch = worker_over(jobs, queue, provider, worker_deps)

    # When one invocation runs them, and the handler's thread logs after it
    batch.handle(sqs_batch(("m1", first.job_id), ("m2", second.job_id)), context=LambdaContext())
    Logger(child=True).info("after the batch")

    # Then each "job succeeded" line names the job it is about as its correlation id
    result = emitted()
    succeeded = [line for line in result.logs if line.get("message") == "job succeeded"]
    assert sorted(line["job_id"] for line in succeeded) == sorted([first.job_id, second.job_id])
    assert all(line["correlation_id"] == line["job_id"] for line in succeeded)
    # and the handler's own thread carries neither job's id
    [after] = [line for line in result.logs if line.get("message") == "after the batch"]
    assert after.get("correlation_id") not in {first.job_id, second.job_id}  # (an earlier test's may linger)
    # and both jobs' metrics reached the invocation's set
    assert result(names.JOBS_STARTED) == 2 and result(names.JOBS_SUCCEEDED) == 2


def test_the_pool_holds_every_record_of_the_largest_batch_at_once(jobs: FakeJobRepository, queue: FakeJobQueue,
                                                                   worker_deps: Build) -> None:
    # Given as many jobs as a batch may hold, each call returning only when all of them are in flight
    queued = [queued_job(jobs) for _ in range(MAX_RECORDS_AT_ONCE)]
    provider = BarrierProvider(MAX_RECORDS_AT_ONCE, *[rendered() for _ in queued])
    batch = worker_over(jobs, queue, provider, worker_deps)

    # When one invocation gets them all
    event = sqs_batch(*[(f"m{i}", job.job_id) for i, job in enumerate(queued)])
    response = batch.handle(event, context=LambdaContext())

    # Then none waited for another to finish: all met in the provider and succeeded
    assert failed_items(response) == [] and provider.met_together == MAX_RECORDS_AT_ONCE
    assert {jobs.items[job.job_id]["status"] for job in queued} == {"succeeded"}
