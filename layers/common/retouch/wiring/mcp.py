"""The mcp function's collaborators, built from its McpSettings: the accounts and API-key hashes it resolves the
caller's key against itself (its Function URL has no authorizer, as the sync entry's has none), and the guard and
options every caller's server is built with."""

from __future__ import annotations

from dataclasses import dataclass

from retouch.config import McpSettings
from retouch.data.accounts import AccountRepository
from retouch.mcp.service import ServiceOptions
from retouch.mcp.spend_guard import SpendGuard
from retouch.ports import AccountRepository as Accounts


@dataclass(frozen=True)
class McpCollaborators:
    accounts: Accounts
    guard: SpendGuard
    options: ServiceOptions
    api_base_url: str


def build_mcp(settings: McpSettings) -> McpCollaborators:
    return McpCollaborators(
        accounts=AccountRepository(settings.table_name),
        guard=SpendGuard(settings.mcp_max_cost_per_call_micros, settings.price_markup_percent),
        options=ServiceOptions(allow_paths=False, max_wait_seconds=settings.mcp_max_wait_seconds,
                               preview_bytes=settings.mcp_preview_bytes),
        api_base_url=settings.api_base_url,
    )
