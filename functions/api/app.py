"""api function: image submissions, uploaded files, changes to jobs (cancel, delete), models, health and API docs."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from retouch.config import api_settings
from retouch.observability.tracing import tracer
from retouch.web.app import create_app
from retouch.web.routes import catalog, files, images, job_actions, system, webhooks

logger = Logger()
metrics = Metrics()  # flushes what the domain measured (retouch.observability.metrics) once per invocation
api_settings()  # fail fast at cold start on missing configuration
app = create_app(images.router, files.router, job_actions.router, catalog.router, system.router, webhooks.router)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
