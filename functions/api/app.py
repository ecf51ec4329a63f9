"""api function: image submissions, uploaded files, changes to jobs (cancel, delete), models, health and API docs."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from retouch.config import ApiSettings
from retouch.observability.tracing import tracer
from retouch.web.app import create_app
from retouch.web.functions import route_groups
from retouch.web.streaming import buffered
from retouch.wiring.api import build_api
from retouch.wiring.reads import read_limit

logger = Logger()
metrics = Metrics()  # flushes what the domain measured (retouch.observability.metrics) once per invocation
settings = ApiSettings.from_environment()  # read at cold start: a bad deploy fails here
app = create_app(route_groups("ApiFunction"), build_api(settings), read_limit=read_limit(settings))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return buffered(app.resolve(event, context))  # API Gateway buffers: a streamed answer is sent whole
