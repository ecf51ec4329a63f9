"""Counts of auth attempts (console/limits.py), one item per hashed subject and minute:

    CONSOLE_ATTEMPTS#<sha256 of the subject>   / MINUTE#<window>   attempts, expires_at (TTL, minutes after the window)
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from retouch.data.clients import aws_client
from retouch.data.items import is_condition_failure
from retouch.ports import WindowCount

_WINDOW_SECONDS = 60
_KEEP_SECONDS = 300


class AttemptCountRepository:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or aws_client("dynamodb")

    def count_attempt(self, subject: str, window: int, limit: int) -> WindowCount:
        """One conditional atomic ADD: admitted while the window's count is under `limit`."""
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": f"CONSOLE_ATTEMPTS#{subject}"}, "sk": {"S": f"MINUTE#{window}"}},
                UpdateExpression="ADD attempts :one SET expires_at = :expires",
                ConditionExpression="attribute_not_exists(attempts) OR attempts < :limit",
                ExpressionAttributeValues={":one": {"N": "1"}, ":limit": {"N": str(limit)},
                                           ":expires": {"N": str((window + 1) * _WINDOW_SECONDS + _KEEP_SECONDS)}},
                ReturnValues="UPDATED_NEW")
        except ClientError as exc:
            if is_condition_failure(exc):
                return WindowCount(limit, False)
            raise
        return WindowCount(int(response["Attributes"]["attempts"]["N"]), True)
