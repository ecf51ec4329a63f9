"""The MCP server against the local stack, driven by the official MCP Python client: over its Function URL
(Streamable HTTP, the mcp function) and through the stdio entry (`retouch-mcp`): the tools and their schemas, a
generation and an edit as tasks (created, polled, completed, images decodable at the requested size), a queued job
canceled through tasks/cancel, and a call above the spend guard (the deployment's, or a key's own set by the
operator) refused with no job made.

Its own stack: the worker's batching window holds each job `queued` for a few seconds (a job is cancelable only then),
and the deployment's spend guard is $0.50 a call."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from jsonschema import Draft202012Validator
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from PIL import Image

from local.stack import LoopbackStack
from tests.e2e.conftest import png_bytes
from tests.e2e.operator import admin
from tests.mcp_tasks import TasksExtension, cancel_task, create_task, get_task, poll_until_terminal

pytestmark = [pytest.mark.e2e, pytest.mark.local_only, pytest.mark.timeout(240), pytest.mark.anyio]

QUEUED_SECONDS = 6  # the worker's batching window: how long a lone job stays queued
GUARD_MICROS = 500_000
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def mcp_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackStack]:
    log_path = tmp_path_factory.mktemp("mcp") / "stack.log"
    with LoopbackStack(port=0, provider_delay=0.05, quiet=True, log_path=log_path,
                       parameter_overrides={"WorkerBatchingWindowSeconds": str(QUEUED_SECONDS),
                                            "WorkerBatchSize": "4",
                                            "McpMaxCostPerCallMicros": str(GUARD_MICROS)}) as stack:
        yield stack


@asynccontextmanager
async def over_http(stack: LoopbackStack, key: str | None = None) -> AsyncIterator[Client]:
    url = stack.function_urls["McpFunction"] + "/mcp"
    headers = {"Authorization": f"Bearer {key or stack.api_key}"}
    async with httpx2.AsyncClient(headers=headers, timeout=120) as http, \
            Client(streamable_http_client(url, http_client=http), extensions=[TasksExtension()]) as client:
        yield client


def readme_stdio_config() -> dict[str, Any]:
    """The README's stdio config for an MCP client, verbatim (the JSON block that runs retouch-mcp)."""
    blocks = re.findall(r"```json\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    [config] = [json.loads(block) for block in blocks if "retouch-mcp" in block]
    return dict(config["mcpServers"]["retouch"])


@asynccontextmanager
async def over_stdio(stack: LoopbackStack) -> AsyncIterator[Client]:
    """The console script as the README configures it (a $0.50 ceiling), pointed at this stack with its key; this
    checkout's `retouch` first on the path, as pytest has it."""
    config = readme_stdio_config()
    env = {**config["env"], "RETOUCH_BASE_URL": stack.base_url, "RETOUCH_API_KEY": stack.api_key or "",
           "PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO / "layers" / "common")}
    # The console script when this venv has it installed (make's install does); the module it names otherwise (a
    # shared venv may hold another checkout's install; tests/unit/mcp/test_stdio.py holds the name to the module).
    script = REPO / config["command"]
    command, args = (str(script), config["args"]) if script.exists() else (
        sys.executable, ["-m", "retouch.mcp.stdio", *config["args"]])
    params = StdioServerParameters(command=command, args=args, env=env, cwd=str(REPO))
    async with Client(params, extensions=[TasksExtension()]) as client:
        yield client


def jobs_made(stack: LoopbackStack) -> int:
    with httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {stack.api_key}"}) as http:
        return len(http.get("/v1/jobs", params={"limit": 100}).json()["data"])


def decoded_sizes(result: dict[str, Any]) -> list[tuple[int, int]]:
    images = [item for item in result["content"] if item["type"] == "image"]
    return [Image.open(io.BytesIO(base64.b64decode(item["data"]))).size for item in images]


def full_image_size(result: dict[str, Any]) -> tuple[int, int]:
    [link] = [item for item in result["content"] if item["type"] == "resource_link"][:1]
    return Image.open(io.BytesIO(httpx.get(link["uri"]).content)).size


async def the_whole_flow(client: Client, stack: LoopbackStack, picture: dict[str, str]) -> None:
    # Given the tools, each with a valid JSON Schema whose enums are the catalog's
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert {"generate_image", "edit_image", "get_job", "cancel_job", "list_jobs", "quote", "get_balance",
            "list_models"} <= set(tools)
    for tool in tools.values():
        Draft202012Validator.check_schema(tool.input_schema)
    models = httpx.get(f"{stack.base_url}/v1/models", headers={"Authorization": f"Bearer {stack.api_key}"}).json()
    assert set(tools["generate_image"].input_schema["properties"]["model"]["enum"]) == {
        name for model in models["data"] for name in (model["id"], *model["aliases"])}

    # When a generation and an edit are made as tasks and polled
    generation = await create_task(client, "generate_image",
                                   {"prompt": "a red fox", "size": "1024x1536", "quality": "low"})
    edit = await create_task(client, "edit_image", {"prompt": "add a hat", "images": [picture], "size": "1024x1024",
                                                    "quality": "low"})
    generated, generation_seen = await poll_until_terminal(client, generation.task_id, timeout=90)
    edited, _ = await poll_until_terminal(client, edit.task_id, timeout=90)

    # Then each task is its job, seen working then completed, with images decodable at the requested size
    assert generation.task_id.startswith("job_") and generation.status == "working"
    assert generation_seen[0] == "working" and generated.status == "completed"
    assert decoded_sizes(generated.result or {}) == [(1024, 1536)]
    assert full_image_size(generated.result or {}) == (1024, 1536)
    assert edited.status == "completed" and decoded_sizes(edited.result or {}) == [(1024, 1024)]
    job = await client.call_tool("get_job", {"job_id": generation.task_id})
    assert job.structured_content is not None and job.structured_content["status"] == "succeeded"
    # and its cost is the API's settled cost, in words and in the structured content
    charged = httpx.get(f"{stack.base_url}/v1/jobs/{generation.task_id}",
                        headers={"Authorization": f"Bearer {stack.api_key}"}).json()["usage"]["cost_usd"]
    assert charged > 0 and job.structured_content["cost_usd"] == charged
    assert "not yet settled" not in job.content[0].text  # type: ignore[union-attr]
    # and an id that is not a job's never reaches the API's path
    traversal = await client.call_tool("get_job", {"job_id": "../account"})
    assert traversal.is_error and "job_id" in traversal.content[0].text  # type: ignore[union-attr]

    # When a job is canceled through tasks/cancel while it is queued
    queued = await create_task(client, "generate_image", {"prompt": "never mind", "quality": "low"})
    await cancel_task(client, queued.task_id)
    canceled = await get_task(client, queued.task_id)
    # Then its task is cancelled (and its job canceled)
    assert canceled.status == "cancelled"

    # When a call would hold more than the guard allows
    before = jobs_made(stack)
    refused = await client.call_tool("generate_image", {"prompt": "x", "n": 4, "quality": "high",
                                                        "size": "1536x1024"})
    # Then it is refused with the reason, and no job was made
    assert refused.is_error and "per call" in refused.content[0].text  # type: ignore[union-attr]
    assert jobs_made(stack) == before


async def test_the_mcp_function_url_serves_tools_and_tasks(mcp_stack: LoopbackStack) -> None:
    async with over_http(mcp_stack) as client:
        await the_whole_flow(client, mcp_stack, {"file_id": uploaded_file(mcp_stack, png_bytes((640, 480)))})


async def test_the_stdio_entry_serves_the_same_flow_with_a_local_file(mcp_stack: LoopbackStack,
                                                                      tmp_path: Path) -> None:
    picture = tmp_path / "photo.png"
    picture.write_bytes(png_bytes((640, 480)))
    async with over_stdio(mcp_stack) as client:
        await the_whole_flow(client, mcp_stack, {"path": str(picture)})


async def test_a_keys_own_ceiling_set_by_the_operator_refuses_a_call_the_deployments_allows(
        mcp_stack: LoopbackStack) -> None:
    # Given a key of the stack's account the operator limited to $0.05 per MCP call (the deployment allows $0.50)
    key = admin(mcp_stack, "create-key", str(mcp_stack.account_id), "--max-cost-per-call", "0.05")["api_key"]
    before = jobs_made(mcp_stack)

    # When the agent asks for a medium-quality image (a hold of about $0.08) over the Function URL
    async with over_http(mcp_stack, key) as client:
        refused = await client.call_tool("generate_image", {"prompt": "a lighthouse", "quality": "medium"})

    # Then the key's ceiling refuses it, naming it, and no job was made
    assert refused.is_error and "$0.050000 per call" in refused.content[0].text  # type: ignore[union-attr]
    assert jobs_made(mcp_stack) == before


async def test_an_unknown_key_is_refused_before_any_mcp_message(mcp_stack: LoopbackStack) -> None:
    response = httpx.post(mcp_stack.function_urls["McpFunction"] + "/mcp", json={"jsonrpc": "2.0", "id": 1,
                                                                                "method": "tools/list"},
                          headers={"Authorization": "Bearer rt_live_nope"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_api_key"


def uploaded_file(stack: LoopbackStack, data: bytes) -> str:
    """An input image the remote edit names by file_id: created through /v1/uploads, its bytes POSTed to S3."""
    with httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {stack.api_key}"}) as http:
        created = http.post("/v1/uploads", json={"filename": "in.png", "bytes": len(data), "mime_type": "image/png"})
        target = created.json()["upload"]
        assert httpx.post(target["url"], data=target["fields"], files={"file": ("in.png", data, "image/png")},
                          timeout=60).status_code == 204
        return str(created.json()["id"])
