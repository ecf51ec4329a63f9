"""api function: image submissions, uploaded files, changes to jobs (cancel, delete), models, health and API docs."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from retouch.config import api_settings
from retouch.web.app import create_app
from retouch.web.routes import catalog, files, images, job_actions, system, webhooks

logger = Logger()
api_settings()  # fail fast at cold start on missing configuration
app = create_app(images.router, files.router, job_actions.router, catalog.router, system.router, webhooks.router)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
