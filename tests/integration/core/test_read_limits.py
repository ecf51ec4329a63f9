"""Reads are counted per account and minute on their own item (data/read_counts.py), through the status function on
events/*.json against moto resources built from template.yaml."""

from __future__ import annotations

from retouch.data.read_counts import WINDOW_SECONDS
from tests.builders import http_event
from tests.integration.core.aws_stack import Stack, client, json_body

STATUS = "StatusFunction"


def test_reads_past_the_read_limit_are_429_and_never_write_the_account_item(stack: Stack, account_id: str) -> None:
    # Given the status function started with a read limit of 3 per account and minute
    account_before = _account_item(stack, account_id)
    with stack.cold_started_with(STATUS, {"RETOUCH_READS_PER_MINUTE": "3"}):
        # When the account reads its account, its jobs, its account again, then once more
        answers = [stack.invoke(STATUS, http_event(sample, account_id=account_id))
                   for sample in ("get_account.json", "list_jobs.json", "get_account.json", "get_usage.json")]

    # Then three are answered and the fourth is 429 rate_limit_exceeded with Retry-After and OpenAI's headers
    statuses = [answer["statusCode"] for answer in answers]
    assert statuses in ([200, 200, 200, 429], [200, 200, 200, 200])  # (a minute may turn between the calls)
    if statuses[-1] == 429:
        headers = {k.lower(): v for k, v in answers[-1]["headers"].items()}
        assert json_body(answers[-1])["error"]["code"] == "rate_limit_exceeded"
        assert 1 <= int(headers["retry-after"]) <= WINDOW_SECONDS and headers["x-ratelimit-limit-requests"] == "3"
    # And the count is on the account's READS item, the account item is left alone
    counts = client("dynamodb").query(
        TableName=stack.table, KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"ACCOUNT#{account_id}/READS"}})["Items"]
    assert sum(int(item["read_count"]["N"]) for item in counts) == 3 + (statuses[-1] == 200)
    assert all(item["sk"]["S"].startswith("MINUTE#") and "expires_at" in item for item in counts)
    assert _account_item(stack, account_id) == account_before


def _account_item(stack: Stack, account_id: str) -> dict:
    return client("dynamodb").get_item(TableName=stack.table, ConsistentRead=True,
                                       Key={"pk": {"S": f"ACCOUNT#{account_id}"}, "sk": {"S": "ACCOUNT"}})["Item"]
