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
from retouch.data.read_counts import WINDOW_SECONDS
from retouch.mcp.request_limit import RATE_LIMITED
from tests.builders import new_account_id
from tests.integration.core.aws_stack import Stack, client, json_body
from tests.integration.core.device_tokens import device_token_header

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


def tool_call(authorization: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    event = mcp_event(authorization)
    body = json.loads(event["body"])
    body.update(method="tools/call", params={**body["params"], "name": name, "arguments": arguments})
    event["body"] = json.dumps(body)
    event["headers"]["mcp-method"] = "tools/call"
    event["headers"]["mcp-name"] = name
    return event


def test_a_device_token_lists_the_tools(stack: Stack, account_id: str) -> None:
    # Given a device token the account minted (the API enforces its scopes when the server calls it with it)
    header = device_token_header(stack, account_id, ["images:generate"])

    # When an MCP client presents it to the Function URL
    response = stack.invoke("McpFunction", mcp_event(header))

    # Then it is accepted as the API accepts it
    assert response["statusCode"] == 200
    assert "generate_image" in {tool["name"] for tool in json_body(response)["result"]["tools"]}


def test_a_keys_own_ceiling_refuses_a_call_the_deployments_would_allow_before_any_job(
        stack: Stack, account_id: str) -> None:
    # Given a key the operator limited to $0.10 per call, under the deployment's $2 ceiling (McpMaxCostPerCallMicros)
    accounts = AccountRepository(stack.table, client("dynamodb"))
    limited = issue_key(accounts, account_id, max_cost_per_call_micros=100_000)
    arguments = {"prompt": "a lighthouse", "n": 2, "quality": "high"}

    # When the agent quotes, then asks for a call that holds more than $0.10 (and less than $2)
    quote = json_body(stack.invoke("McpFunction", tool_call(f"Bearer {limited.raw_key}", "quote", arguments)))
    refused = json_body(stack.invoke("McpFunction", tool_call(f"Bearer {limited.raw_key}", "generate_image",
                                                              arguments)))

    # Then the quote shows the key's ceiling, and the call is refused by it, naming it, with no job made
    assert 100_000 < quote["result"]["structuredContent"]["hold_micros"] <= 2_000_000
    assert quote["result"]["structuredContent"]["max_micros_per_call"] == 100_000
    assert refused["result"]["isError"] is True and "$0.100000" in refused["result"]["content"][0]["text"]
    assert stack.jobs_of(account_id) == []


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


def ping_event(authorization: str) -> dict[str, Any]:
    """A ping on the 2025-11-25 wire (the 2026-07-28 one has none)."""
    event = mcp_event(authorization)
    event["body"] = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "ping"})
    event["headers"]["mcp-protocol-version"] = "2025-11-25"
    del event["headers"]["mcp-method"]
    return event


def test_every_mcp_request_counts_against_the_accounts_reads_per_minute(stack: Stack, account_id: str) -> None:
    # Given the mcp function started with a read limit of 3 per account and minute, and two accounts' keys
    accounts = AccountRepository(stack.table, client("dynamodb"))
    mine = f"Bearer {issue_key(accounts, account_id).raw_key}"
    theirs = f"Bearer {issue_key(accounts, stack.seed_account(new_account_id())).raw_key}"
    with stack.cold_started_with("McpFunction", {"RETOUCH_READS_PER_MINUTE": "3"}):
        # When the first account lists the tools, quotes (answered by the server alone), pings, then lists again;
        # and the other account lists the tools
        answers = [stack.invoke("McpFunction", event) for event in (
            mcp_event(mine), tool_call(mine, "quote", {"prompt": "a fox"}), ping_event(mine), mcp_event(mine))]
        other = stack.invoke("McpFunction", mcp_event(theirs))

    # Then three are answered and the fourth is refused with the JSON-RPC error an API 429 becomes, Retry-After and
    # OpenAI's headers on the HTTP answer (a minute may turn between the calls); the other account is answered
    bodies = [json_body(answer) for answer in answers]
    assert all("result" in body for body in bodies[:3]), [body.get("error") for body in bodies]
    assert bodies[1]["result"]["isError"] is False
    refused = "error" in bodies[3]
    if refused:
        headers = {name.lower(): value for name, value in answers[3]["headers"].items()}
        assert bodies[3]["error"]["code"] == RATE_LIMITED
        assert "rate_limit_exceeded" in bodies[3]["error"]["message"]
        assert 1 <= int(headers["retry-after"]) <= WINDOW_SECONDS and headers["x-ratelimit-limit-requests"] == "3"
    assert "result" in json_body(other)
    assert answers[0]["headers"]["x-ratelimit-limit-requests"] == "3"
    # And each request was counted on the account's READS item
    counts = client("dynamodb").query(
        TableName=stack.table, KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"ACCOUNT#{account_id}/READS"}})["Items"]
    assert sum(int(item["read_count"]["N"]) for item in counts) == 3 + (not refused)
