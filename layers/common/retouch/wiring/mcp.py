"""The mcp function's collaborators, built from its McpSettings: the accounts, API-key hashes and device tokens it
resolves the caller's token against itself (its Function URL has no authorizer, as the sync entry's has none), the
per-minute read counter every request of a caller counts against, and the deployment's guard (narrowed per caller to
its key's own ceiling) and the options every caller's server is built with."""

from __future__ import annotations

from dataclasses import dataclass

from retouch.config import McpSettings
from retouch.data.accounts import AccountRepository
from retouch.data.client_tokens import ClientTokenRepository
from retouch.data.read_counts import ReadCountRepository
from retouch.mcp.request_limit import AccountReads
from retouch.mcp.service import ServiceOptions
from retouch.mcp.spend_guard import SpendGuard
from retouch.ports import AccountRepository as Accounts
from retouch.ports import ClientTokenStore, ReadCounter


@dataclass(frozen=True)
class McpCollaborators:
    accounts: Accounts
    client_tokens: ClientTokenStore  # device tokens, accepted as the API accepts them (it enforces their scopes)
    reads: ReadCounter  # the API's per-minute read counter: every MCP request of an account counts on it
    reads_per_minute: int
    guard: SpendGuard
    options: ServiceOptions
    api_base_url: str

    def gate_for(self, account_id: str) -> AccountReads:
        """The gate counting one caller's requests (a new one per invocation: it keeps the count's headers)."""
        return AccountReads(self.reads, account_id, self.reads_per_minute)


def build_mcp(settings: McpSettings) -> McpCollaborators:
    return McpCollaborators(
        accounts=AccountRepository(settings.table_name),
        client_tokens=ClientTokenRepository(settings.table_name),
        reads=ReadCountRepository(settings.table_name),
        reads_per_minute=settings.reads_per_minute,
        guard=SpendGuard(settings.mcp_max_cost_per_call_micros, settings.price_markup_percent),
        options=ServiceOptions(allow_paths=False, max_wait_seconds=settings.mcp_max_wait_seconds,
                               preview_bytes=settings.mcp_preview_bytes),
        api_base_url=settings.api_base_url,
    )
