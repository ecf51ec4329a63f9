"""Who is calling: the account the authorizer resolved from the bearer key."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from retouch.auth.authorize import Principal, authorizer_response
from retouch.errors import Unauthenticated


def with_principal(event: dict[str, Any], principal: Principal | None) -> dict[str, Any]:
    """The event as the HTTP API's authorizer would have passed it, for entries without one (the Function URL):
    whatever context the request carried is replaced, so a caller cannot name its own account."""
    context = {**event.get("requestContext", {}), "authorizer": {"lambda": authorizer_response(principal)["context"]}}
    return {**event, "requestContext": context}


def current_key_id(event: APIGatewayProxyEventV2) -> str | None:
    """The id of the key the authorizer resolved (None when it gave none)."""
    context = event.request_context.authorizer.get_lambda or {}
    return str(context["key_id"]) if context.get("key_id") else None


def current_account(event: APIGatewayProxyEventV2) -> str:
    context = event.request_context.authorizer.get_lambda or {}
    account_id = context.get("account_id")
    if not account_id:
        raise Unauthenticated("Incorrect API key provided. Send 'Authorization: Bearer <key>'.")
    return str(account_id)
