"""sync function (a Lambda Function URL, not API Gateway): the image routes, each request held until its job ends.

API Gateway cuts every integration at 30 s and gpt-image-2 takes minutes, so an OpenAI SDK call through it gets a
202; through this URL it gets the image. The URL has no authorizer (AuthType NONE): the key is resolved here, by the
authorizer's own logic, into the context the authorizer would have set, where the app's key check (web/principal.py)
refuses an unusable one before any route runs.
"""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from retouch.auth.authorize import authenticate
from retouch.config import ApiSettings
from retouch.observability.tracing import tracer
from retouch.streaming_runtime import StreamedResponse
from retouch.web.app import create_app
from retouch.web.edge import NOT_FROM_EDGE, from_edge
from retouch.web.functions import route_groups
from retouch.web.principal import with_principal
from retouch.web.streaming import streamed
from retouch.wiring.reads import read_limit
from retouch.wiring.sync import build_sync

logger = Logger()
metrics = Metrics()  # flushes what the domain measured (retouch.observability.metrics) once per invocation
settings = ApiSettings.from_environment()  # read at cold start: a bad deploy fails here
collaborators = build_sync(settings)
app = create_app(route_groups("SyncFunction"), collaborators.routes, read_limit=read_limit(settings))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.LAMBDA_FUNCTION_URL, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any] | StreamedResponse:
    if not from_edge(event.get("headers"), collaborators.edge_secret):  # sent around the edge: nothing looked up
        return NOT_FROM_EDGE
    principal = authenticate((event.get("headers") or {}).get("authorization"), collaborators.accounts,
                             collaborators.client_tokens)
    # A streamed answer (`stream=true`, job events) goes out chunk by chunk (retouch/streaming_runtime.py).
    return streamed(app.resolve(with_principal(event, principal), context))
