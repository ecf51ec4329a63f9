"""HTTP API Lambda authorizer: bearer key -> account (cached by API Gateway per Authorization header)."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import APIGatewayAuthorizerEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext

from retouch.auth.authorize import authenticate, authorizer_response
from retouch.config import AuthorizerSettings
from retouch.observability.tracing import tracer
from retouch.wiring.authorizer import build_authorizer

logger = Logger()
settings = AuthorizerSettings.from_environment()  # read at cold start: a bad deploy fails here
credentials = build_authorizer(settings)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@event_source(data_class=APIGatewayAuthorizerEventV2)
def lambda_handler(event: APIGatewayAuthorizerEventV2, context: LambdaContext) -> dict[str, Any]:
    return authorizer_response(authenticate(event.headers.get("authorization"), credentials.accounts,
                                            credentials.client_tokens))
