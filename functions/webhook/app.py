"""webhook function: delivers job events from the webhooks queue; each message is one attempt of one event.

A failed attempt is reported as a batch item failure after its visibility was pushed out to the next
scheduled retry, so it alone comes back, when the schedule says.
"""

from functools import cache

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from retouch.config import webhook_settings
from retouch.models.webhooks import WebhookMessageRecord
from retouch.webhooks.delivery import DeliveryDeps, handle_webhook_message
from retouch.webhooks.wiring import build_delivery

logger = Logger()
# A batch whose every event failed is still a normal answer: each failure already scheduled its own retry.
processor = BatchProcessor(event_type=EventType.SQS, model=WebhookMessageRecord, raise_on_entire_batch_failure=False)


@cache
def _deps() -> DeliveryDeps:
    return build_delivery(webhook_settings())


def record_handler(record: WebhookMessageRecord) -> str:
    attempt = int(record.attributes.ApproximateReceiveCount)
    return handle_webhook_message(record.body, attempt, record.receiptHandle, _deps())


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
