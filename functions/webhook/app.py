"""webhook function: delivers job events from the webhooks queue; each message is one attempt of one event.

A batch's events are delivered at once, each on its own thread, and each attempt is bounded as a whole
(`WebhookTimeoutSeconds`): one account's slow receiver costs the other events of its batch nothing.
A failed attempt is reported as a batch item failure after its visibility was pushed out to the next
scheduled retry, so it alone comes back, when the schedule says.
"""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch import AsyncBatchProcessor, EventType, async_process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from retouch.config import WebhookSettings
from retouch.models.webhooks import WebhookMessageRecord
from retouch.observability.tracing import tracer
from retouch.webhooks.delivery import handle_webhook_message
from retouch.wiring.webhook import build_delivery

logger = Logger()
metrics = Metrics()  # flushes what the domain measured (retouch.observability.metrics) once per invocation
settings = WebhookSettings.from_environment()  # read at cold start: a bad deploy fails here
# Built once, before any batch fans out to threads.
deps = build_delivery(settings)
# A batch whose every event failed is still a normal answer: each failure already scheduled its own retry.
processor = AsyncBatchProcessor(event_type=EventType.SQS, model=WebhookMessageRecord,
                                raise_on_entire_batch_failure=False)
# One thread per event of a batch (SQS batches for Lambda hold at most 10 messages; the template asks for 5).
_senders = ThreadPoolExecutor(max_workers=10, thread_name_prefix="webhook")


async def record_handler(record: WebhookMessageRecord) -> str:
    attempt = int(record.attributes.ApproximateReceiveCount)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_senders, handle_webhook_message, record.body, attempt, record.receiptHandle,
                                      deps)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return async_process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                          context=context)
