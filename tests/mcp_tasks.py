"""The requester side of the MCP tasks extension (`io.modelcontextprotocol/tasks`) for the official MCP Python client,
which has no task helpers yet: the extension declared through the client's own extension API (a `ClientExtension`
whose `ResultClaim` parses `resultType: "task"`), and `tasks/get` / `tasks/cancel` sent through the session's
generic `send_request`. Shared by the unit, integration and e2e tests."""

from __future__ import annotations

from typing import Any, Literal

import anyio
import mcp_types as types
from mcp.client import Client
from mcp.client.extension import ClaimContext, ClientExtension, ResultClaim
from pydantic import ConfigDict

TASKS_EXTENSION = "io.modelcontextprotocol/tasks"
MODERN = "2026-07-28"


class CreatedTask(types.Result):
    """CreateTaskResult: the task fields, with `resultType: "task"`."""

    model_config = ConfigDict(extra="allow")
    result_type: Literal["task"] = "task"
    task_id: str
    status: str
    created_at: str
    last_updated_at: str
    ttl_ms: int | None = None
    poll_interval_ms: int | None = None


class TaskState(types.Result):
    """GetTaskResult: the task, with `result` once completed."""

    model_config = ConfigDict(extra="allow")
    task_id: str
    status: str
    status_message: str | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


class TaskIdParams(types.RequestParams):
    task_id: str


class GetTask(types.Request[TaskIdParams, Literal["tasks/get"]]):
    method: Literal["tasks/get"] = "tasks/get"
    params: TaskIdParams


class CancelTask(types.Request[TaskIdParams, Literal["tasks/cancel"]]):
    method: Literal["tasks/cancel"] = "tasks/cancel"
    params: TaskIdParams


async def _unexpected(claimed: CreatedTask, ctx: ClaimContext) -> types.CallToolResult:
    raise AssertionError("tests receive the task itself (allow_claimed=True)")


class TasksExtension(ClientExtension):
    identifier = TASKS_EXTENSION

    def claims(self) -> list[ResultClaim[Any]]:
        return [ResultClaim(result_type="task", model=CreatedTask, resolve=_unexpected)]


async def create_task(client: Client, name: str, arguments: dict[str, Any]) -> CreatedTask:
    result = await client.session.call_tool(name, arguments, allow_claimed=True)
    assert isinstance(result, CreatedTask), result
    return result


async def get_task(client: Client, task_id: str) -> TaskState:
    return await client.session.send_request(GetTask(params=TaskIdParams(task_id=task_id)), TaskState)


async def cancel_task(client: Client, task_id: str) -> None:
    await client.session.send_request(CancelTask(params=TaskIdParams(task_id=task_id)), types.Result)


async def poll_until_terminal(client: Client, task_id: str, *, timeout: float) -> tuple[TaskState, list[str]]:
    """Poll tasks/get until the task ends; the final state and every status seen."""
    seen: list[str] = []
    with anyio.fail_after(timeout):
        while True:
            state = await get_task(client, task_id)
            seen.append(state.status)
            if state.status in ("completed", "failed", "cancelled"):
                return state, seen
            await anyio.sleep(0.5)
