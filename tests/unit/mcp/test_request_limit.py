"""Every MCP request counts against its account's reads per minute (retouch/mcp/request_limit.py), whatever method it
is and whether or not it calls the API: past the limit a tool call is the tool error an API 429 gives, any other
method a JSON-RPC error of the same text; another account's requests are not affected. Driven by the official MCP
client in process, over the fake Retouch API, each account's server counting on one shared in-memory counter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from mcp.client import Client
from mcp.shared.exceptions import MCPError

from retouch.mcp.api_client import Connection, RetouchApi
from retouch.mcp.request_limit import RATE_LIMITED, AccountReads
from retouch.mcp.server import create_server
from retouch.mcp.service import ServiceOptions
from retouch.mcp.spend_guard import SpendGuard
from retouch.ports import WindowCount
from tests.builders import new_account_id
from tests.fakes.ledger import FakeReadCounter
from tests.fakes.retouch_api import BASE, FakeRetouchApi
from tests.mcp_tasks import MODERN, TasksExtension, get_task

pytestmark = pytest.mark.anyio
OPTIONS = ServiceOptions(allow_paths=False, max_wait_seconds=5, preview_bytes=1_000_000)
LIMIT = 3


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class OneMinute(FakeReadCounter):
    """Every count in one window, so a minute turning during a test never resets it."""

    def count_read(self, account_id: str, window: int, limit: int) -> WindowCount:
        return super().count_read(account_id, 0, limit)


@asynccontextmanager
async def connected(gate: AccountReads, fake: FakeRetouchApi | None = None, *,
                    mode: str = MODERN) -> AsyncIterator[Client]:
    async with httpx.AsyncClient(transport=(fake or FakeRetouchApi()).transport()) as http:
        server = create_server(RetouchApi(Connection(BASE, "rt_live_test"), http), SpendGuard(None), OPTIONS, gate)
        async with Client(server, mode=mode, extensions=[TasksExtension()]) as client:
            yield client


async def refused_as_rate_limited(call: Any) -> MCPError:
    with pytest.raises(MCPError) as refused:
        await call
    assert refused.value.code == RATE_LIMITED
    return refused.value


@pytest.mark.parametrize("tool", [None, "quote", "list_models"])
async def test_the_request_past_the_accounts_limit_is_refused_and_another_account_is_not(tool: str | None) -> None:
    # Given two accounts limited to 3 MCP requests a minute, counted on the same counter
    counter = OneMinute()
    mine, theirs = AccountReads(counter, new_account_id(), LIMIT), AccountReads(counter, new_account_id(), LIMIT)

    async def request(client: Client) -> Any:
        """tools/list, or a tool call (quote is answered by the server alone; list_models calls the API)."""
        if tool is None:
            return await client.list_tools()
        return await client.call_tool(tool, {"prompt": "a fox"} if tool == "quote" else {})

    # When the first account lists the tools (as a client does before calling one), makes 2 more requests within the
    # minute, then a 4th; and the other account lists the tools
    async with connected(mine) as client:
        answered = [await client.list_tools(), *[await request(client) for _ in range(LIMIT - 1)]]
        if tool is None:
            error = await refused_as_rate_limited(request(client))
            text, data = error.message, error.data
        else:
            result = await request(client)
            assert result.is_error
            text, data = result.content[0].text, None
    async with connected(theirs) as client:
        await client.list_tools()

    # Then the first 3 are answered and the 4th refused as an API 429 is, saying how to go on; the other account's is
    # answered, counted on its own
    assert not any(getattr(answer, "is_error", False) for answer in answered)
    assert "rate_limit_exceeded" in text and "Wait a little and try again" in text
    if data is not None:
        assert data["status"] == 429 and data["code"] == "rate_limit_exceeded"
        assert 1 <= data["retry_after_seconds"] <= 60
    assert counter.counts == {(mine.account_id, 0): LIMIT, (theirs.account_id, 0): 1}
    assert mine.headers["x-ratelimit-remaining-requests"] == "0" and "Retry-After" in mine.headers


async def test_a_ping_counts_and_is_refused_past_the_limit() -> None:
    # Given a client on the handshake wire (its `initialize` is a request too) and a limit of 3
    gate = AccountReads(OneMinute(), new_account_id(), LIMIT)
    async with connected(gate, mode="legacy") as client:
        # When it pings twice after initializing, then once more
        await client.send_ping()
        await client.send_ping()
        error = await refused_as_rate_limited(client.send_ping())

    # Then the third ping is the fourth request, refused
    assert "rate_limit_exceeded" in error.message


async def test_a_task_read_refused_by_the_apis_limit_is_the_same_json_rpc_error() -> None:
    # Given an API that answers a job read with its 429
    def limited(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "7"}, json={"error": {
            "message": "Rate limit reached: 600 reads per minute. Retry in 7 s.", "type": "rate_limit_error",
            "code": "rate_limit_exceeded", "param": None}})

    gate = AccountReads(OneMinute(), new_account_id(), 100)
    async with httpx.AsyncClient(transport=httpx.MockTransport(limited)) as http:
        server = create_server(RetouchApi(Connection(BASE, "k"), http), SpendGuard(None), OPTIONS, gate)
        async with Client(server, mode=MODERN, extensions=[TasksExtension()]) as client:
            # When a task is read
            error = await refused_as_rate_limited(get_task(client, "job_" + "a" * 24))

    # Then it is the JSON-RPC error the server's own limit answers, not an internal error
    assert "rate_limit_exceeded" in error.message and "Wait a little" in error.message
