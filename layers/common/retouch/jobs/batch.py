"""A batch of job messages (one worker invocation): every record runs at once, each on a thread of its own.

Why: a synchronous upstream keeps the function open for the whole model call (a minute or more), and the function
is billed for that wait; several jobs waiting in one invocation share its bill. The work is I/O (the upstream's
HTTP call, S3, DynamoDB), so threads hold the calls at once; CPU work (checks, PNG headers) is short beside them.

Invariants:
- Every record of a batch starts at once (the pool has a thread per record, up to MAX_RECORDS_AT_ONCE, which is at
  least the event source's BatchSize): the invocation lasts as long as its longest job, never the sum of its jobs,
  so the worker's Timeout, sized for one job, still holds for a batch.
- Each record is one delivery as before (`handle_delivery`): its own claim token, lease, heartbeat thread and
  message visibility. A record that fails (RedeliverLater, a poison body, a crash) is reported in
  `batchItemFailures` alone; the others are deleted by the event source.
- Log keys are the record's thread's own (`correlate` keeps them per thread off the main thread), so one job's id
  never appears on another job's lines; metrics go to the invocation's shared set (a lock guards it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.utilities.batch import AsyncBatchProcessor, EventType, async_process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from retouch.jobs.late_holds import release_late_hold
from retouch.jobs.process import WorkerDeps, handle_delivery
from retouch.models.messages import JobMessageRecord
from retouch.observability.tracing import correlate, forget_thread_keys

# Records of one batch that run at once; the template's WorkerBatchSize may not exceed it (a template test checks).
# Threads are made as records need them, so an invocation of one record starts one thread.
MAX_RECORDS_AT_ONCE = 10


class JobBatch:
    """The worker's batch handling: `handle(event, context)` runs the event's records concurrently and answers
    the partial batch response. Built once per environment; batches (invocations) never overlap in Lambda."""

    def __init__(self, deps: WorkerDeps, delay_redelivery: Callable[[str, int], None]) -> None:
        self._deps = deps
        self._delay_redelivery = delay_redelivery
        self._pool = ThreadPoolExecutor(max_workers=MAX_RECORDS_AT_ONCE, thread_name_prefix="job")
        # A retry (RedeliverLater) is an expected outcome, not a crash: report it as a batch item failure even when
        # it is the whole batch, instead of failing the invocation and counting a Lambda error.
        self._processor = AsyncBatchProcessor(event_type=EventType.SQS, model=JobMessageRecord,
                                              raise_on_entire_batch_failure=False)

    def handle(self, event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        return async_process_partial_response(event=event, record_handler=self._record, processor=self._processor,
                                              context=context)

    async def _record(self, record: JobMessageRecord) -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self.deliver, record)

    def deliver(self, record: JobMessageRecord) -> str:
        """One record, on its pool thread: the thread's log keys are reset, then carry this job's id."""
        forget_thread_keys()
        correlate(record.body.job_id)  # on every line of this record, the skipped deliveries' too
        if record.body.late_hold is not None:
            return release_late_hold(record.body.job_id, record.body.late_hold, self._deps.billing)
        return handle_delivery(record.body.job_id, record.receiptHandle, self._deps, self._delay_redelivery,
                               record.body.poll_seq, record.body.fetches_urls)
