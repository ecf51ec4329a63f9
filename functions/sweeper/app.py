"""sweeper function (on a schedule): stranded jobs are queued again, or ended with their hold released and their
outputs deleted."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from retouch.config import SweeperSettings
from retouch.jobs.sweep import sweep
from retouch.models.common import now_epoch
from retouch.observability.tracing import tracer
from retouch.wiring.sweeper import build_sweeper

logger = Logger()
metrics = Metrics()  # flushes what the domain measured (retouch.observability.metrics) once per invocation
settings = SweeperSettings.from_environment()  # read at cold start: a bad deploy fails here
deps = build_sweeper(settings)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    return sweep(deps, now_epoch()).as_dict()
