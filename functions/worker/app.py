"""worker function: one SQS message per job; a batch's records run at once (retouch.jobs.batch), each reported on
its own (partial batch response)."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from retouch.config import WorkerSettings
from retouch.jobs.batch import JobBatch
from retouch.observability.tracing import tracer
from retouch.wiring.worker import build_worker

logger = Logger()
metrics = Metrics()  # flushes what the domain measured (retouch.observability.metrics) once per invocation
settings = WorkerSettings.from_environment()  # read at cold start: a bad deploy fails here
# Built once, before any batch fans out to threads.
deps, queue = build_worker(settings)
batch = JobBatch(deps, queue.delay_redelivery)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return batch.handle(event, context)
