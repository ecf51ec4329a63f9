"""A device token minted into the moto table, as POST /v1/client_tokens mints one, for tests that present it."""

from __future__ import annotations

from tests.integration.core.aws_stack import Stack, client


def device_token_header(stack: Stack, account_id: str, scopes: list[str]) -> str:
    from retouch.data.client_tokens import ClientTokenRepository
    from retouch.end_users.device_tokens import mint_client_token
    from retouch.models.client_tokens import ClientTokenRequest
    from retouch.models.common import now_epoch

    request = ClientTokenRequest.model_validate({"user": "u_phone", "scopes": scopes, "spend_cap_usd": "1.00"})
    minted = mint_client_token(account_id, request, ClientTokenRepository(stack.table, client("dynamodb")),
                               now_epoch())
    assert minted.token is not None
    return f"Bearer {minted.token}"
