"""eraser function: one batch of an end user's erasure per message, then the next batch queued (resumable)."""

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from retouch.config import EraserSettings
from retouch.observability.tracing import tracer
from retouch.wiring.eraser import build_eraser

logger = Logger()
metrics = Metrics()  # flushes what the domain measured (retouch.observability.metrics) once per invocation
settings = EraserSettings.from_environment()  # read at cold start: a bad deploy fails here
run_batch = build_eraser(settings)
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    run_batch(str(json.loads(record.body)["erasure_id"]))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
