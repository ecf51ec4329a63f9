"""Uploaded-file records in DynamoDB.

    FILE#<file_id> / FILE      the record; gsi1: ACCOUNT#<id> / FILE#<created_at>#<file_id> (the account's files by
                               time); `expires_at` is the table's TTL attribute

TTL deletes lazily (within days), so readers also compare `expires_at` with the time themselves.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from retouch.data.clients import aws_client
from retouch.data.cursors import decode_cursor, encode_cursor, end_user_index_key, end_user_partition
from retouch.data.items import is_condition_failure, record_attributes, to_item, to_value
from retouch.models.records import FileRecord


def _is_file_position(key: dict[str, str]) -> bool:
    sort_key = key.get("gsi1sk", key.get("gsi2sk", ""))
    return key["pk"].startswith("FILE#") and key["sk"] == "FILE" and sort_key.startswith("FILE#")


def file_key(file_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"FILE#{file_id}"}, "sk": {"S": "FILE"}}


def file_record(item: dict[str, Any]) -> FileRecord:
    return FileRecord.model_validate(record_attributes(item))


_record = file_record


class FileRepository:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or aws_client("dynamodb")

    def create(self, record: FileRecord) -> None:
        data = record.model_dump(mode="json", exclude_none=True) | {
            "pk": f"FILE#{record.file_id}",
            "sk": "FILE",
            "gsi1pk": f"ACCOUNT#{record.account_id}",
            "gsi1sk": f"FILE#{record.created_at:012d}#{record.file_id}",
        }
        if record.end_user is not None:
            data |= end_user_index_key(record.account_id, record.end_user,
                                       f"FILE#{record.created_at:012d}#{record.file_id}")
        self._client.put_item(TableName=self._table, Item=to_item(data),
                              ConditionExpression="attribute_not_exists(pk)")

    def get(self, file_id: str) -> FileRecord | None:
        item = self._client.get_item(TableName=self._table, Key=file_key(file_id), ConsistentRead=True).get("Item")
        return _record(item) if item else None

    def record_check(self, file_id: str, fields: dict[str, Any]) -> FileRecord | None:
        """Store what reading the object found (status, size, format, ...; None values are removed). None when
        the file was deleted meanwhile: a check never brings a deleted file back."""
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values = {f":v{i}": to_value(value) for i, value in enumerate(fields.values()) if value is not None}
        sets = [f"#f{i} = :v{i}" for i, value in enumerate(fields.values()) if value is not None]
        removes = [f"#f{i}" for i, value in enumerate(fields.values()) if value is None]
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        try:
            response = self._client.update_item(
                TableName=self._table, Key=file_key(file_id), UpdateExpression=expression,
                ConditionExpression="attribute_exists(pk)", ExpressionAttributeNames=names,
                ExpressionAttributeValues=values, ReturnValues="ALL_NEW")
        except ClientError as exc:
            if is_condition_failure(exc):
                return None
            raise
        return _record(response["Attributes"])

    def delete(self, file_id: str) -> None:
        self._client.delete_item(TableName=self._table, Key=file_key(file_id))

    def page(self, account_id: str, *, limit: int, now: int, cursor: str | None = None,
             end_user: str | None = None) -> tuple[list[FileRecord], str | None]:
        """One page of the account's unexpired files (or one end user's, from their own partition of gsi2), newest
        first; the cursor is opaque to callers (ValueError when it is not one this method made for this listing)."""
        index = "gsi1" if end_user is None else "gsi2"
        partition = f"ACCOUNT#{account_id}" if end_user is None else end_user_partition(account_id, end_user)
        params: dict[str, Any] = {
            "TableName": self._table, "IndexName": index, "Limit": limit, "ScanIndexForward": False,
            "KeyConditionExpression": f"{index}pk = :pk AND begins_with({index}sk, :prefix)",
            # TTL deletes within days, not on time: an expired record is skipped here as everywhere else.
            "FilterExpression": "expires_at > :now",
            "ExpressionAttributeValues": {":pk": {"S": partition}, ":prefix": {"S": "FILE#"},
                                          ":now": {"N": str(now)}},
        }
        if cursor:
            params["ExclusiveStartKey"] = decode_cursor(cursor, partition=partition, valid=_is_file_position,
                                                        index=index)
        response = self._client.query(**params)
        return [_record(item) for item in response.get("Items", [])], encode_cursor(response.get("LastEvaluatedKey"))
