"""mcp function (a Lambda Function URL): the Retouch MCP server over Streamable HTTP, stateless, for remote agents.

The URL has no authorizer (AuthType NONE), as the sync entry's: the bearer key (or device token) is resolved here by
the authorizer's own logic before any MCP message is read; the server then calls the Retouch API with that same
token, so every submission meets the API's checks, limits and billing (a device token's scopes and spend cap
included). Every MCP request counts against the account's reads per minute here, as a request to the API does. The
key's own spend ceiling narrows the deployment's. Nothing of a request's body (prompts, images) is logged.
"""

from typing import Any

import anyio
import httpx
from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from retouch.auth.authorize import authenticate
from retouch.auth.keys import bearer_token
from retouch.config import McpSettings
from retouch.mcp.api_client import Connection, RetouchApi
from retouch.mcp.function_url import serve_event
from retouch.mcp.request_limit import RequestGate
from retouch.mcp.server import create_server
from retouch.mcp.spend_guard import SpendGuard
from retouch.observability.tracing import tracer
from retouch.wiring.mcp import build_mcp

logger = Logger()
settings = McpSettings.from_environment()  # read at cold start: a bad deploy fails here
collaborators = build_mcp(settings)

UNAUTHORIZED = {
    "statusCode": 401,
    "headers": {"content-type": "application/json", "www-authenticate": 'Bearer realm="retouch"'},
    "body": '{"error": {"message": "Incorrect API key provided. Send Authorization: Bearer <key>.", '
            '"type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}',
}


async def _serve(event: dict[str, Any], key: str, guard: SpendGuard, gate: RequestGate) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        api = RetouchApi(Connection(collaborators.api_base_url, key), http)
        return await serve_event(create_server(api, guard, collaborators.options, gate), event)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.LAMBDA_FUNCTION_URL, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    authorization = (event.get("headers") or {}).get("authorization")
    key = bearer_token(authorization)
    principal = authenticate(authorization, collaborators.accounts, collaborators.client_tokens)
    if key is None or principal is None:
        return UNAUTHORIZED
    # The key's own ceiling (set by the operator, read from its record, never from the request) narrows the
    # deployment's; a device token's own spend cap is the API's to enforce when the server calls it with the token.
    guard = collaborators.guard.narrowed_to(principal.max_cost_per_call_micros)
    # Every request counts against the account's reads per minute, whatever it does (retouch/mcp/request_limit.py).
    gate = collaborators.gate_for(principal.account_id)
    result: dict[str, Any] = anyio.run(_serve, event, key, guard, gate)
    result["headers"].update(gate.headers)  # x-ratelimit-*, and Retry-After once refused, as the API answers
    return result
