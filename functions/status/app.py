"""status function: GET /v1/jobs, /v1/jobs/{job_id}, /v1/account, /v1/usage and /v1/usage/ledger, read-only."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from retouch.config import status_settings
from retouch.observability.tracing import tracer
from retouch.web.app import create_app
from retouch.web.routes import account, jobs

logger = Logger()
status_settings()  # fail fast at cold start on missing configuration
app = create_app(jobs.router, account.router)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
