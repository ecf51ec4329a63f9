"""The Retouch MCP server on the official MCP Python SDK's low-level `Server`: tools, and the tasks extension.

The SDK (mcp 2.3) carries no task runtime: its 2025-11-25 task types are types only, and its tasks story is
"deferred" until the `io.modelcontextprotocol/tasks` extension (SEP-2663) lands. So the extension's three methods
(`tasks/get`, `tasks/update`, `tasks/cancel`) are registered here as request handlers, the extension is advertised
under `capabilities.extensions`, and an image tool answers `resultType: "task"` (a CreateTaskResult) when the
request's own capabilities declare the extension, as the extension requires (2026-07-28 wire; a legacy
2025-11-25 client gets the bounded wait instead, since that revision's in-core tasks are not what the SDK's client
can receive).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from retouch.mcp.api_client import ApiRefused, RetouchApi
from retouch.mcp.request_limit import RequestGate, limit_requests, rate_limited_error
from retouch.mcp.service import RetouchMcpService, ServiceOptions, TaskNotFound
from retouch.mcp.spend_guard import SpendGuard
from retouch.mcp.tasks import TASKS_EXTENSION

SERVER_NAME = "retouch"
INSTRUCTIONS = ("Retouch generates and edits images (OpenAI's gpt-image models) for the caller's Retouch account. "
                "Image calls become tasks when the client supports MCP tasks; otherwise follow a job with get_job. "
                "Use quote to see what a call would hold before making it.")
INVALID_PARAMS = -32602
MISSING_REQUIRED_CLIENT_CAPABILITY = -32021


class TaskParams(types.RequestParams):
    """`tasks/get`, `tasks/cancel` (and `tasks/update`, whose input responses Retouch never asks for)."""

    task_id: str


def _declares_tasks(ctx: ServerRequestContext[Any]) -> bool:
    capabilities = ctx.session.client_capabilities
    extensions = (capabilities.extensions if capabilities is not None else None) or {}
    return ctx.protocol_version in MODERN_PROTOCOL_VERSIONS and TASKS_EXTENSION in extensions


def _require_tasks(ctx: ServerRequestContext[Any]) -> None:
    if not _declares_tasks(ctx):
        raise MCPError(MISSING_REQUIRED_CLIENT_CAPABILITY, "Missing required client capability",
                       {"requiredCapabilities": {"extensions": {TASKS_EXTENSION: {}}}})


def _not_found(task_id: str) -> MCPError:
    return MCPError(INVALID_PARAMS, f"Failed to retrieve task: Task not found ({task_id})")


@contextmanager
def _task_errors(task_id: str) -> Iterator[None]:
    """A task method's failures as JSON-RPC errors: an unknown task, or the API's 429 as this server's own."""
    try:
        yield
    except TaskNotFound:
        raise _not_found(task_id) from None
    except ApiRefused as exc:
        if exc.status == 429:
            raise rate_limited_error(exc, None) from None
        raise


def build_server(service: RetouchMcpService, gate: RequestGate) -> Server[Any]:
    specs = service.tools
    tools = [types.Tool(name=spec.name, description=spec.description, input_schema=spec.input_schema)
             for spec in specs]
    known = {spec.name for spec in specs}

    async def list_tools(ctx: ServerRequestContext[Any],
                         params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: ServerRequestContext[Any], params: types.CallToolRequestParams) -> Any:
        if params.name not in known:
            raise MCPError(INVALID_PARAMS, f"Unknown tool: {params.name}")
        result = await service.call(params.name, dict(params.arguments or {}), as_task=_declares_tasks(ctx))
        if result.get("resultType") == "task":
            return result  # the extension's claimed shape: the SDK passes it through unsieved on the modern wire
        return types.CallToolResult.model_validate(result)

    async def get_task(ctx: ServerRequestContext[Any], params: TaskParams) -> dict[str, Any]:
        _require_tasks(ctx)
        with _task_errors(params.task_id):
            return await service.get_task(params.task_id)

    async def cancel_task(ctx: ServerRequestContext[Any], params: TaskParams) -> dict[str, Any]:
        _require_tasks(ctx)
        with _task_errors(params.task_id):
            await service.cancel_task(params.task_id)
        return {}

    async def update_task(ctx: ServerRequestContext[Any], params: TaskParams) -> dict[str, Any]:
        _require_tasks(ctx)
        with _task_errors(params.task_id):
            await service.update_task(params.task_id)
        return {}

    # A tool's schema by name, for the transport's `Mcp-Param-*` check of a tools/call: without it the SDK runs the
    # tools/list handler inside the call, and that inner request would count against the account's limit too.
    schemas = {spec.name: spec.input_schema for spec in specs}
    server: Server[Any] = Server(SERVER_NAME, version="1", instructions=INSTRUCTIONS, on_list_tools=list_tools,
                                 on_call_tool=call_tool, get_tool_input_schema=schemas.get)
    server.add_request_handler("tasks/get", TaskParams, get_task)
    server.add_request_handler("tasks/cancel", TaskParams, cancel_task)
    server.add_request_handler("tasks/update", TaskParams, update_task)
    server.extensions[TASKS_EXTENSION] = {}
    server.middleware.append(limit_requests(gate))  # every request counted, before its validation and handler
    return server


def create_server(api: RetouchApi, guard: SpendGuard, options: ServiceOptions, gate: RequestGate) -> Server[Any]:
    """The server for one caller's key (`api`), with its spend guard and the gate counting its requests."""
    return build_server(RetouchMcpService(api, guard, options), gate)
