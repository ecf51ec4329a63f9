"""The per-minute limit on every MCP request the mcp function serves, as middleware around every method.

Each JSON-RPC request (`tools/list`, `tools/call` of any tool, `ping`, `tasks/*`, `initialize`, ...) counts one
against its account's reads per minute: the API's own read counter and limit (retouch.billing.rate_limit.admit_read,
`ReadsPerMinute`), so an MCP request is limited as a request to the API is, whether or not it then calls the API.
Notifications answer nothing and are not counted. A request the server then makes to the API counts there too, as
any client's does.

Over the limit a request is refused as a 429 from the API is: a tool call with the tool error an agent reads for the
API's `rate_limit_exceeded` (retouch.mcp.service.refusal_text), any other method with a JSON-RPC error of that
text (`RATE_LIMITED`, its data OpenAI's error and `retry_after_seconds`). `retouch-mcp` (stdio) counts nothing
itself: it runs on the caller's own machine, and reaches a deployment only through the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio
import mcp_types as types
from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from mcp.shared.exceptions import MCPError

from retouch.billing.rate_limit import admit_read
from retouch.errors import RateLimited
from retouch.mcp.api_client import ApiRefused
from retouch.mcp.service import refusal_text
from retouch.ports import ReadCounter

# JSON-RPC leaves -32000 to -32099 to the server; the MCP SDK uses -32000, -32001, -32020 to -32022 and -32042.
RATE_LIMITED = -32029


class RequestGate(Protocol):
    def admit(self) -> None:
        """Count one request; RateLimited when it is one too many."""


@dataclass
class AccountReads:
    """The mcp function's gate for one caller: its account's reads this minute. `headers`: the last count's
    `x-ratelimit-*` (and `Retry-After` once refused), for the HTTP answer."""

    counter: ReadCounter
    account_id: str
    per_minute: int
    headers: dict[str, str] = field(default_factory=dict)

    def admit(self) -> None:
        try:
            admission = admit_read(self.counter, self.account_id, self.per_minute)
        except RateLimited as exc:
            self.headers = dict(exc.headers)
            raise
        self.headers = admission.headers


class NoGate:
    """retouch-mcp's: nothing counted here (its calls to the API are counted there)."""

    def admit(self) -> None:
        return None


def rate_limited_error(refusal: ApiRefused, retry_after_seconds: int | None) -> MCPError:
    """A 429 as a JSON-RPC error (a method other than a tool call): the text a tool call's refusal has."""
    data: dict[str, Any] = {"status": refusal.status, "type": refusal.error_type, "code": refusal.code}
    if retry_after_seconds is not None:
        data["retry_after_seconds"] = retry_after_seconds
    return MCPError(RATE_LIMITED, refusal_text(refusal), data)


def limit_requests(gate: RequestGate) -> ServerMiddleware[Any]:
    """Middleware counting every request through `gate` before anything else runs (validation, the handler)."""

    async def middleware(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.request_id is None:  # a notification
            return await call_next(ctx)
        try:
            await anyio.to_thread.run_sync(gate.admit)
        except RateLimited as exc:
            refusal = ApiRefused(exc.status_code, exc.message, code=exc.code, error_type=exc.error_type)
            if ctx.method == "tools/call":
                return types.CallToolResult(content=[types.TextContent(type="text", text=refusal_text(refusal))],
                                            is_error=True)
            raise rate_limited_error(refusal, exc.retry_after_seconds) from None
        return await call_next(ctx)

    return middleware
