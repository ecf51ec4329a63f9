"""Console sessions in the table, keyed by the SHA-256 of the cookie's secret (the secret is never stored):

    CONSOLE_SESSION#<sha256>   / SESSION   account_id, user_sub, email, role, csrf_token, last_seen_at, expires_at (TTL)
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from retouch.data.clients import aws_client
from retouch.data.items import is_condition_failure, record_attributes, to_item
from retouch.models.console import ConsoleSessionRecord


def session_key(session_hash: str) -> dict[str, Any]:
    return {"pk": {"S": f"CONSOLE_SESSION#{session_hash}"}, "sk": {"S": "SESSION"}}


class ConsoleSessionRepository:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or aws_client("dynamodb")

    def put(self, session: ConsoleSessionRecord) -> None:
        self._client.put_item(TableName=self._table, Item=to_item(session.model_dump(mode="json") | {
            "pk": f"CONSOLE_SESSION#{session.session_hash}", "sk": "SESSION"}))

    def get(self, session_hash: str) -> ConsoleSessionRecord | None:
        item = self._client.get_item(TableName=self._table, Key=session_key(session_hash),
                                     ConsistentRead=True).get("Item")
        return ConsoleSessionRecord.model_validate(record_attributes(item)) if item else None

    def touch(self, session_hash: str, last_seen_at: int, expires_at: int) -> None:
        try:
            self._client.update_item(
                TableName=self._table, Key=session_key(session_hash),
                UpdateExpression="SET last_seen_at = :seen, expires_at = :expires",
                ConditionExpression="attribute_exists(pk) AND last_seen_at < :seen",
                ExpressionAttributeValues={":seen": {"N": str(last_seen_at)}, ":expires": {"N": str(expires_at)}})
        except ClientError as exc:
            if not is_condition_failure(exc):  # signed out meanwhile, or a later request moved it on
                raise

    def delete(self, session_hash: str) -> None:
        self._client.delete_item(TableName=self._table, Key=session_key(session_hash))
