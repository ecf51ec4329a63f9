"""Who is calling: the account the authorizer resolved from the bearer key."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from retouch.errors import Unauthenticated


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
