"""console function: the console's backend (issue #21) behind `ANY /console/api/{proxy+}`, with no authorizer: the
gate (retouch/web/console_gate.py) resolves the session cookie itself. It serves the console's own routes (sign-up,
sign-in, the session, the account's people) and the public API's groups the console needs, to a signed-in person."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from retouch.config import ConsoleSettings
from retouch.observability.tracing import tracer
from retouch.web.app import create_app
from retouch.web.console_gate import CONSOLE_PUBLIC_ROUTES, ConsoleGate, RequireCsrf, not_signed_in
from retouch.web.functions import CONSOLE_FUNCTION, route_groups
from retouch.web.principal import RequireCaller
from retouch.web.streaming import buffered
from retouch.wiring.console import build_console
from retouch.wiring.reads import read_limit

logger = Logger()
metrics = Metrics()  # flushes what the domain measured (retouch.observability.metrics) once per invocation
settings = ConsoleSettings.from_environment()  # read at cold start: a bad deploy fails here
collaborators = build_console(settings)
app = create_app(route_groups(CONSOLE_FUNCTION), collaborators.routes, read_limit=read_limit(settings),
                 caller_check=RequireCaller(CONSOLE_PUBLIC_ROUTES, not_signed_in),
                 guards=[RequireCsrf(settings.console_origin)])
gate = ConsoleGate(app, collaborators.sessions)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return buffered(gate.handle(event, context))  # API Gateway buffers: a streamed answer (job events) is sent whole
