"""The MCP server in process, driven by the official MCP Python client (in-memory, the 2026-07-28 wire) over a fake
Retouch API: tools and their schemas, image calls as tasks, the bounded wait without tasks, tasks/cancel, the spend
guard."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from mcp.client import Client
from mcp.shared.exceptions import MCPError

from retouch.admin.cli import parser as admin_parser
from retouch.catalog import MAX_FILE_BYTES
from retouch.mcp.api_client import Connection, RetouchApi
from retouch.mcp.request_limit import NoGate
from retouch.mcp.server import create_server
from retouch.mcp.service import ServiceOptions
from retouch.mcp.spend_guard import SpendGuard
from tests.builders import image_size, png
from tests.fakes.retouch_api import BASE, COST_MICROS, FakeRetouchApi
from tests.mcp_tasks import MODERN, TasksExtension, cancel_task, create_task, get_task, poll_until_terminal

pytestmark = pytest.mark.anyio
OPTIONS = ServiceOptions(allow_paths=False, max_wait_seconds=5, preview_bytes=1_000_000)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@asynccontextmanager
async def connected(fake: FakeRetouchApi, *, tasks: bool = True, guard: SpendGuard | None = None,
                    options: ServiceOptions = OPTIONS) -> AsyncIterator[Client]:
    async with httpx.AsyncClient(transport=fake.transport()) as http:
        api = RetouchApi(Connection(BASE, "rt_live_test"), http)
        server = create_server(api, guard or SpendGuard(max_micros_per_call=None), options, NoGate())
        async with Client(server, mode=MODERN, extensions=[TasksExtension()] if tasks else None) as client:
            yield client


async def test_every_tool_is_listed_with_a_valid_json_schema() -> None:
    async with connected(FakeRetouchApi()) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}

    assert set(tools) == {"generate_image", "edit_image", "get_job", "cancel_job", "list_jobs", "quote",
                          "get_balance", "list_models"}
    for tool in tools.values():
        Draft202012Validator.check_schema(tool.input_schema)
    generate = tools["generate_image"].input_schema["properties"]
    assert generate["model"]["enum"][0] == "gpt-image-2"
    assert generate["quality"]["enum"] == ["low", "medium", "high", "auto"]
    assert generate["n"]["maximum"] == 10
    assert "path" not in str(tools["edit_image"].input_schema)  # local paths only through stdio


async def test_a_generation_is_a_task_bound_to_its_job_until_its_images_arrive() -> None:
    fake = FakeRetouchApi(reads_to_finish=3)
    async with connected(fake) as client:
        task = await create_task(client, "generate_image", {"prompt": "a red fox", "size": "1024x1024"})
        state, seen = await poll_until_terminal(client, task.task_id, timeout=10)

    assert task.task_id in fake.jobs and task.status == "working"
    assert "working" in seen and state.status == "completed"
    result = state.result or {}
    images = [item for item in result["content"] if item["type"] == "image"]
    links = [item for item in result["content"] if item["type"] == "resource_link"]
    assert image_size(base64.b64decode(images[0]["data"])) == ("PNG", (64, 48))
    assert f"/{task.task_id}/0.png?" in links[0]["uri"]
    assert fake.keys_seen == {"Bearer rt_live_test"}


async def test_tasks_cancel_cancels_the_queued_job() -> None:
    fake = FakeRetouchApi(reads_to_finish=None)
    async with connected(fake) as client:
        task = await create_task(client, "generate_image", {"prompt": "a fox"})
        await cancel_task(client, task.task_id)
        state = await get_task(client, task.task_id)

    assert fake.jobs[task.task_id].status == "canceled"
    assert state.status == "cancelled"


async def test_an_unknown_task_is_invalid_params() -> None:
    async with connected(FakeRetouchApi()) as client:
        with pytest.raises(MCPError) as refused:
            await get_task(client, "job_" + "0" * 24)
    assert refused.value.code == -32602


async def test_without_tasks_the_call_waits_for_the_images() -> None:
    async with connected(FakeRetouchApi(reads_to_finish=1), tasks=False) as client:
        result = await client.call_tool("generate_image", {"prompt": "a fox"})
    assert not result.is_error
    assert [item.type for item in result.content] == ["text", "image", "resource_link"]


async def test_without_tasks_a_long_job_answers_its_id_and_how_to_follow_it() -> None:
    fake = FakeRetouchApi(reads_to_finish=None)
    async with connected(fake, tasks=False) as client:
        result = await client.call_tool("generate_image", {"prompt": "a fox", "wait_seconds": 0})
    text = result.content[0].text  # type: ignore[union-attr]
    [job_id] = fake.jobs
    assert job_id in text and "get_job" in text
    assert result.structured_content is not None and result.structured_content["status"] == "queued"


async def test_a_call_above_the_spend_guard_is_refused_before_any_job() -> None:
    fake = FakeRetouchApi()
    guard = SpendGuard(max_micros_per_call=100_000)
    async with connected(fake, guard=guard) as client:
        quote = await client.call_tool("quote", {"prompt": "x", "n": 4, "quality": "high"})
        refused = await client.call_tool("generate_image", {"prompt": "x", "n": 4, "quality": "high"})
        allowed = await create_task(client, "generate_image", {"prompt": "x", "quality": "low", "size": "1024x1024"})

    assert quote.structured_content is not None and quote.structured_content["allowed"] is False
    assert refused.is_error and "per call" in refused.content[0].text  # type: ignore[union-attr]
    assert [body["quality"] for body in fake.submitted] == ["low"]
    assert list(fake.jobs) == [allowed.task_id]


async def test_invalid_arguments_name_the_parameter_and_make_no_job() -> None:
    fake = FakeRetouchApi()
    async with connected(fake) as client:
        result = await client.call_tool("generate_image", {"prompt": "x", "model": "gpt-image-1-mini",
                                                           "size": "4096x4096"})
    assert result.is_error and "size" in result.content[0].text  # type: ignore[union-attr]
    assert fake.submitted == []


async def test_api_refusals_are_clear_tool_errors() -> None:
    fake = FakeRetouchApi(refuse_submit=(402, {"message": "Insufficient credit", "type": "insufficient_quota",
                                              "code": "insufficient_credits", "param": None}))
    async with connected(fake) as client:
        result = await client.call_tool("generate_image", {"prompt": "x"})
    text: Any = result.content[0]
    assert result.is_error and "(insufficient_credits)" in text.text and "Add credit" in text.text
    # and the command it names is one the admin CLI has (its --help exits 0; an unknown command's, 2)
    [command] = re.findall(r"retouch-admin ([a-z-]+)", text.text)
    with pytest.raises(SystemExit) as helped:
        admin_parser().parse_args([command, "--help"])
    assert helped.value.code == 0, command


async def test_an_edit_with_a_local_path_uploads_it_first_in_stdio_mode(tmp_path: Any) -> None:
    picture = tmp_path / "in.png"
    picture.write_bytes(b"\x89PNG fake")
    fake = FakeRetouchApi()
    options = ServiceOptions(allow_paths=True, max_wait_seconds=5, preview_bytes=1_000_000)
    async with connected(fake, options=options) as client:
        task = await create_task(client, "edit_image", {"prompt": "hat", "images": [{"path": str(picture)},
                                                                                    {"url": "https://x.test/a.png"}]})
    assert list(fake.jobs) == [task.task_id]
    assert fake.submitted[0]["images"] == [{"file_id": "file_1"}, {"image_url": "https://x.test/a.png"}]
    assert list(fake.uploads.values()) and b"\x89PNG fake" in next(iter(fake.uploads.values()))


async def test_previews_stop_at_the_answer_s_budget_and_every_image_stays_linked() -> None:
    # Given a job of three images, and a budget that holds one preview and a bit
    fake = FakeRetouchApi(reads_to_finish=1, images_per_job=3)
    options = ServiceOptions(allow_paths=False, max_wait_seconds=5, preview_bytes=len(png(64, 48)) + 10)
    # When its task completes
    async with connected(fake, options=options) as client:
        task = await create_task(client, "generate_image", {"prompt": "three foxes", "n": 3})
        state, _ = await poll_until_terminal(client, task.task_id, timeout=10)
    # Then one image is inlined, and all three are linked
    kinds = [item["type"] for item in (state.result or {})["content"]]
    assert kinds.count("image") == 1 and kinds.count("resource_link") == 3


async def test_a_handshake_era_client_gets_the_bounded_wait_not_a_task() -> None:
    # Given a client on the 2025-11-25 handshake, which cannot carry the extension's per-request capabilities
    fake = FakeRetouchApi(reads_to_finish=1)
    async with httpx.AsyncClient(transport=fake.transport()) as http:
        server = create_server(RetouchApi(Connection(BASE, "k"), http), SpendGuard(None), OPTIONS, NoGate())
        async with Client(server, mode="legacy", extensions=[TasksExtension()]) as client:
            # When it calls an image tool
            result = await client.call_tool("generate_image", {"prompt": "a fox"})
    # Then it gets the images as an ordinary tool result
    assert not result.is_error and [item.type for item in result.content] == ["text", "image", "resource_link"]


async def test_a_local_file_over_the_upload_limit_is_refused_unread_and_makes_no_job(tmp_path: Any) -> None:
    huge = tmp_path / "huge.png"
    with huge.open("wb") as sparse:
        sparse.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk used, and never read
    fake = FakeRetouchApi()
    options = ServiceOptions(allow_paths=True, max_wait_seconds=5, preview_bytes=1_000_000)
    async with connected(fake, options=options) as client:
        result = await client.call_tool("edit_image", {"prompt": "hat", "images": [{"path": str(huge)}]})
    assert result.is_error and "larger than" in result.content[0].text  # type: ignore[union-attr]
    assert fake.submitted == [] and fake.uploads == {}


async def test_an_unreachable_api_is_a_tool_error_that_says_how_to_check() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
        server = create_server(RetouchApi(Connection(BASE, "k"), http), SpendGuard(None), OPTIONS, NoGate())
        async with Client(server, mode=MODERN) as client:
            result = await client.call_tool("generate_image", {"prompt": "a fox"})
    text = result.content[0].text  # type: ignore[union-attr]
    assert result.is_error and "api_unreachable" in text and "list_jobs" in text


async def test_a_malformed_wait_is_refused_before_any_job() -> None:
    fake = FakeRetouchApi()
    async with connected(fake, tasks=False) as client:
        result = await client.call_tool("generate_image", {"prompt": "a fox", "wait_seconds": -1})
    assert result.is_error and "wait_seconds" in result.content[0].text  # type: ignore[union-attr]
    assert fake.submitted == []


async def test_a_settled_job_s_cost_is_read_from_the_job_object_and_reported() -> None:
    # Given a job the API has settled (its view: usage.cost_usd, usage.pricing; no cost_micros)
    fake = FakeRetouchApi(reads_to_finish=1)
    async with connected(fake, tasks=False) as client:
        made = await client.call_tool("generate_image", {"prompt": "a fox", "wait_seconds": 0})
        [job_id] = fake.jobs
        # When the agent asks for it
        result = await client.call_tool("get_job", {"job_id": job_id})
        listed = await client.call_tool("list_jobs", {})
    # Then it is told what it was charged, in words and in the structured content
    text = result.content[0].text  # type: ignore[union-attr]
    assert "$0.042000" in text and "not yet settled" not in text
    assert result.structured_content is not None
    assert (result.structured_content["cost_micros"], result.structured_content["cost_usd"]) == (COST_MICROS, 0.042)
    assert listed.structured_content is not None and listed.structured_content["jobs"][0]["cost_micros"] == COST_MICROS
    # and a job still in flight has no cost yet (its cost_usd is 0 until it ends)
    assert made.structured_content is not None and made.structured_content["cost_micros"] is None


@pytest.mark.parametrize("tool", ["get_job", "cancel_job"])
@pytest.mark.parametrize("job_id", ["../account", "../../v1/account", "job_123", "job_" + "a" * 24 + "/cancel",
                                    "job_" + "a" * 24 + "\n", "file_" + "a" * 24])
async def test_a_job_id_that_is_not_one_is_a_tool_error_before_any_request(tool: str, job_id: str) -> None:
    fake = FakeRetouchApi()
    async with connected(fake) as client:
        result = await client.call_tool(tool, {"job_id": job_id})
    assert result.is_error and "job_id" in result.content[0].text  # type: ignore[union-attr]
    assert fake.paths_seen == []


@pytest.mark.parametrize("method", [get_task, cancel_task])
async def test_a_task_id_that_is_not_a_job_id_is_unknown_before_any_request(method: Any) -> None:
    fake = FakeRetouchApi()
    async with connected(fake) as client:
        with pytest.raises(MCPError) as refused:
            await method(client, "../account")
    assert refused.value.code == -32602 and fake.paths_seen == []


async def test_cancel_job_s_description_says_only_a_queued_job_can_be_canceled() -> None:
    # Given a job a worker has started
    fake = FakeRetouchApi(reads_to_finish=None)
    async with connected(fake, tasks=False) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        await client.call_tool("generate_image", {"prompt": "a fox", "wait_seconds": 0})
        [job] = fake.jobs.values()
        job.status = "running"
        # When the agent cancels it
        result = await client.call_tool("cancel_job", {"job_id": job.job_id})
    # Then it is refused, as the tool's description says it would be
    assert result.is_error and "job_not_cancelable" in result.content[0].text  # type: ignore[union-attr]
    description = tools["cancel_job"].description or ""
    assert description.startswith("Cancel a queued job") and "queued or running" not in description
    assert "409" in description


@pytest.mark.parametrize(("tool", "arguments", "unknown"), [
    pytest.param("generate_image", {"prompt": "a fox", "webhook_url": "https://hooks.example/in"}, "webhook_url",
                 id="generate-webhook_url"),
    pytest.param("generate_image", {"prompt": "a fox", "user": "end-user-1"}, "user", id="generate-user"),
    pytest.param("generate_image", {"prompt": "a fox", "metadata": {"k": "v"}}, "metadata", id="generate-metadata"),
    pytest.param("edit_image", {"prompt": "a hat", "images": [{"url": "https://x.test/a.png"}],
                                "response_format": "url"}, "response_format", id="edit-response_format"),
    pytest.param("quote", {"prompt": "a fox", "webhook_events": []}, "webhook_events", id="quote-webhook_events"),
    pytest.param("get_job", {"job_id": "job_" + "a" * 24, "verbose": True}, "verbose", id="get_job-verbose"),
    pytest.param("list_models", {"owned_by": "openai"}, "owned_by", id="list_models-owned_by"),
])
async def test_an_argument_outside_the_tools_schema_is_invalid_before_any_request(
        tool: str, arguments: dict[str, Any], unknown: str) -> None:
    # Given a tool whose input schema does not have the argument (additionalProperties: false)
    fake = FakeRetouchApi()
    async with connected(fake, tasks=False) as client:
        # When the agent calls it with that argument
        result = await client.call_tool(tool, arguments)

    # Then it is an "Invalid argument" tool error naming it, and nothing reached the API (no paid job)
    assert result.is_error
    assert result.content[0].text.startswith(f"Invalid argument '{unknown}'")  # type: ignore[union-attr]
    assert fake.paths_seen == [] and fake.submitted == []
