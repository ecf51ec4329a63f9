"""Per-account counts of the requests that create nothing (reads, cancels, deletes, redeliveries), one item per
account and minute, apart from the account item:

    ACCOUNT#<id>/READS / MINUTE#<window>    read_count, expires_at (TTL: gone a few minutes after its window)

Why not on the account item, as submissions are counted (data/account_state.py): polling is the most frequent request
an account makes, and the account item is the one every hold, release and credit transaction writes. Counting reads
there would make polls conflict with those transactions (TransactionConflictException) and pay for the account item's
size (its holds map, revoked keys) on every poll; this item is a few bytes (1 WCU) in a partition of its own. One item
per window needs no reset: a single conditional ADD is the whole count, and the TTL sweeps old windows for free.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from retouch.data.clients import aws_client
from retouch.data.items import is_condition_failure
from retouch.ports import WindowCount

WINDOW_SECONDS = 60
_KEEP_SECONDS = 300  # after its window ends, before the TTL may remove a window's item


def read_count_key(account_id: str, window: int) -> dict[str, Any]:
    return {"pk": {"S": f"ACCOUNT#{account_id}/READS"}, "sk": {"S": f"MINUTE#{window}"}}


class ReadCountRepository:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or aws_client("dynamodb")

    def count_read(self, account_id: str, window: int, limit: int) -> WindowCount:
        """One conditional atomic ADD: admitted while the window's count is under `limit`."""
        try:
            response = self._client.update_item(
                TableName=self._table, Key=read_count_key(account_id, window),
                UpdateExpression="ADD read_count :one SET expires_at = :expires",
                ConditionExpression="attribute_not_exists(read_count) OR read_count < :limit",
                ExpressionAttributeValues={":one": {"N": "1"}, ":limit": {"N": str(limit)},
                                           ":expires": {"N": str((window + 1) * WINDOW_SECONDS + _KEEP_SECONDS)}},
                ReturnValues="UPDATED_NEW")
        except ClientError as exc:
            if is_condition_failure(exc):
                return WindowCount(limit, False)
            raise
        return WindowCount(int(response["Attributes"]["read_count"]["N"]), True)
