"""recharge function: one off-session Stripe PaymentIntent per claimed crossing of an account's auto-recharge
threshold (payments/auto_recharge.py), from the recharge queue. Exactly once: the claim is Stripe's idempotency key."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from retouch.config import RechargeSettings
from retouch.models.messages import RechargeMessageRecord
from retouch.observability.tracing import tracer
from retouch.payments.auto_recharge import run_recharge
from retouch.wiring.recharge import build_recharge

logger = Logger()
metrics = Metrics()
settings = RechargeSettings.from_environment()  # read at cold start: a bad deploy fails here
deps = build_recharge(settings)
processor = BatchProcessor(event_type=EventType.SQS, model=RechargeMessageRecord)


def record_handler(record: RechargeMessageRecord) -> str:
    return run_recharge(deps, record.body.account_id, record.body.claim)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
