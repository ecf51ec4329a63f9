"""worker function: one SQS message per job; failures are reported per record (partial batch response)."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from retouch.config import WorkerSettings, worker_settings
from retouch.jobs.process import handle_delivery
from retouch.models.messages import JobMessageRecord
from retouch.observability.tracing import correlate, tracer
from retouch.wiring.worker import build_worker

logger = Logger()
metrics = Metrics()  # flushes what the domain measured (retouch.observability.metrics) once per invocation
settings: WorkerSettings = worker_settings()  # read at cold start: a bad deploy fails here
deps, queue = build_worker(settings)
# A retry (RedeliverLater) is an expected outcome, not a crash: report it as a batch item failure even when it is
# the whole batch (BatchSize is 1), instead of failing the invocation and counting a Lambda error.
processor = BatchProcessor(event_type=EventType.SQS, model=JobMessageRecord, raise_on_entire_batch_failure=False)


def record_handler(record: JobMessageRecord) -> str:
    correlate(record.body.job_id)  # on every line of this record, the skipped deliveries' too
    return handle_delivery(record.body.job_id, record.receiptHandle, deps, queue.delay_redelivery,
                           record.body.poll_seq)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
