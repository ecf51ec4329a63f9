"""The mcp function's collaborators, built from its McpSettings: the accounts, API-key hashes and device tokens it
resolves the caller's token against itself (its Function URL has no authorizer, as the sync entry's has none), and the
deployment's guard (narrowed per caller to its key's own ceiling) and the options every caller's server is built
with."""

from __future__ import annotations

from dataclasses import dataclass

from retouch.config import McpSettings
from retouch.data.accounts import AccountRepository
from retouch.data.client_tokens import ClientTokenRepository
from retouch.mcp.service import ServiceOptions
from retouch.mcp.spend_guard import SpendGuard
from retouch.ports import AccountRepository as Accounts
from retouch.ports import ClientTokenStore


@dataclass(frozen=True)
class McpCollaborators:
    accounts: Accounts
    client_tokens: ClientTokenStore  # device tokens, accepted as the API accepts them (it enforces their scopes)
    guard: SpendGuard
    options: ServiceOptions
    api_base_url: str


def build_mcp(settings: McpSettings) -> McpCollaborators:
    return McpCollaborators(
        accounts=AccountRepository(settings.table_name),
        client_tokens=ClientTokenRepository(settings.table_name),
        guard=SpendGuard(settings.mcp_max_cost_per_call_micros, settings.price_markup_percent),
        options=ServiceOptions(allow_paths=False, max_wait_seconds=settings.mcp_max_wait_seconds,
                               preview_bytes=settings.mcp_preview_bytes),
        api_base_url=settings.api_base_url,
    )
