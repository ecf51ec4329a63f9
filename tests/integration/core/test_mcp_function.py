"""The mcp function on events/mcp_tools_list.json (a Function URL request carrying an MCP tools/list on the
2026-07-28 wire), against key hashes and accounts in moto: the key is resolved before any MCP message is read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from retouch.admin.accounts import issue_key
from retouch.auth.keys import generate_api_key
from retouch.data.accounts import AccountRepository
from tests.builders import new_account_id
from tests.integration.core.aws_stack import Stack, client, json_body

EVENT = Path(__file__).resolve().parents[3] / "events" / "mcp_tools_list.json"


def mcp_event(authorization: str | None) -> dict[str, Any]:
    event = json.loads(EVENT.read_text())
    if authorization is None:
        del event["headers"]["authorization"]
    else:
        event["headers"]["authorization"] = authorization
    return event


def test_a_known_key_lists_the_tools_with_valid_schemas(stack: Stack, account_id: str) -> None:
    # Given an active account's key
    issued = issue_key(AccountRepository(stack.table, client("dynamodb")), account_id)

    # When an MCP client lists the tools through the Function URL
    response = stack.invoke("McpFunction", mcp_event(f"Bearer {issued.raw_key}"))

    # Then it gets a JSON-RPC answer (stateless, JSON response mode) listing every tool with a valid schema
    assert response["statusCode"] == 200
    assert response["headers"]["content-type"] == "application/json"
    tools = json_body(response)["result"]["tools"]
    assert {tool["name"] for tool in tools} == {"generate_image", "edit_image", "get_job", "cancel_job", "list_jobs",
                                                "quote", "get_balance", "list_models"}
    for tool in tools:
        Draft202012Validator.check_schema(tool["inputSchema"])


@pytest.mark.parametrize("situation", ["no-header", "unknown-key", "suspended-account"])
def test_an_unusable_key_is_refused_before_any_mcp_message(situation: str, stack: Stack) -> None:
    # Given a request whose key cannot be used
    status = "suspended" if situation == "suspended-account" else "active"
    issued = issue_key(AccountRepository(stack.table, client("dynamodb")),
                       stack.seed_account(new_account_id(), status=status))
    header = {"no-header": None, "unknown-key": f"Bearer {generate_api_key()}"}.get(situation,
                                                                                    f"Bearer {issued.raw_key}")

    # When it reaches the mcp function
    response = stack.invoke("McpFunction", mcp_event(header))

    # Then it is OpenAI's 401, with the Bearer challenge, and no JSON-RPC answer
    assert response["statusCode"] == 401
    assert response["headers"]["www-authenticate"].startswith("Bearer")
    assert json_body(response)["error"]["code"] == "invalid_api_key"


def test_nothing_of_a_prompt_reaches_the_logs(stack: Stack, account_id: str, capsys: pytest.CaptureFixture[str],
                                              caplog: pytest.LogCaptureFixture) -> None:
    # Given a known key and an image call whose prompt is distinctive (no HTTP API runs in this tier, so the submit
    # fails as unreachable: the path through validation, the guard and the API client all ran)
    issued = issue_key(AccountRepository(stack.table, client("dynamodb")), account_id)
    event = mcp_event(f"Bearer {issued.raw_key}")
    body = json.loads(event["body"])
    body.update(method="tools/call", params={**body["params"], "name": "generate_image",
                                             "arguments": {"prompt": "a-very-private-prompt-7431"}})
    event["body"] = json.dumps(body)
    event["headers"]["mcp-method"] = "tools/call"
    event["headers"]["mcp-name"] = "generate_image"

    # When the function serves it
    response = stack.invoke("McpFunction", event)

    # Then the agent reads why it failed, and neither the prompt nor the key was logged
    result = json_body(response)["result"]
    assert result["isError"] is True and "api_unreachable" in result["content"][0]["text"]
    captured = capsys.readouterr()
    logged = captured.out + captured.err + caplog.text
    assert "a-very-private-prompt-7431" not in logged and issued.raw_key not in logged
