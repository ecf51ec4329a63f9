"""status function: GET /v1/jobs, /v1/jobs/{job_id}, /v1/account, /v1/usage and /v1/usage/ledger, read-only."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from retouch.config import StatusSettings
from retouch.observability.tracing import tracer
from retouch.web.app import create_app
from retouch.web.functions import route_groups
from retouch.web.streaming import buffered
from retouch.wiring.reads import read_limit
from retouch.wiring.status import build_status

logger = Logger()
settings = StatusSettings.from_environment()  # read at cold start: a bad deploy fails here
app = create_app(route_groups("StatusFunction"), build_status(settings), read_limit=read_limit(settings))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return buffered(app.resolve(event, context))  # API Gateway buffers: a streamed answer is sent whole
