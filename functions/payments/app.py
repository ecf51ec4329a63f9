"""payments function: POST /v1/billing/top_ups, GET /v1/billing/payments and Stripe's webhook
(POST /v1/billing/stripe/webhook, public, signature-verified)."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from retouch.config import PaymentsSettings
from retouch.observability.tracing import tracer
from retouch.web.app import create_app
from retouch.web.functions import route_groups
from retouch.wiring.payments import build_payments, payments_read_limit

logger = Logger()
metrics = Metrics()  # flushes what the domain measured (credits, reversals, refused signatures) per invocation
settings = PaymentsSettings.from_environment()  # read at cold start: a bad deploy fails here
app = create_app(route_groups("PaymentsFunction"), build_payments(settings), read_limit=payments_read_limit(settings))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
