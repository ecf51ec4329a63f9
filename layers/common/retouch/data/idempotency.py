"""Idempotency-Key records in DynamoDB: `IDEMPOTENCY#<account>#<sha256(key)>` / `IDEMPOTENCY`, expired by TTL.

A key is reserved by a Put inside the transaction that writes what the request changes (the job and its hold, or a
cancellation and its release), conditional on no live record under the key; so a key never exists without its job,
nor a job created under a key without the key. When the condition fails, the transaction's cancellation reason
carries the record that holds the key (ReturnValuesOnConditionCheckFailure), raised as KeyTaken.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from retouch.data.clients import aws_client
from retouch.data.items import from_item, is_condition_failure, to_item
from retouch.models.idempotency import IdempotencyRecord
from retouch.ports import KeyTaken

_SK = "IDEMPOTENCY"


def key_of(account_id: str, key_hash: str) -> dict[str, Any]:
    return {"pk": {"S": f"IDEMPOTENCY#{account_id}#{key_hash}"}, "sk": {"S": _SK}}


def record_of(item: dict[str, Any]) -> IdempotencyRecord:
    data = from_item(item)
    data.pop("pk", None)
    data.pop("sk", None)
    return IdempotencyRecord.model_validate(data)


def reservation_put(table: str, record: IdempotencyRecord) -> dict[str, Any]:
    """The transaction item that reserves `record`'s key: a Put unless a live record holds it (an expired one that
    TTL has not removed yet does not). On failure it returns the holder, so no second read is needed."""
    item = to_item(record.model_dump(mode="json")) | key_of(record.account_id, record.key_hash)
    return {"Put": {
        "TableName": table,
        "Item": item,
        "ConditionExpression": "attribute_not_exists(pk) OR expires_at < :now",
        "ExpressionAttributeValues": {":now": {"N": str(record.created_at)}},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }}


def key_taken(reason: Mapping[str, Any]) -> KeyTaken:
    """KeyTaken from the cancellation reason of a reservation whose condition failed."""
    item = reason.get("Item")
    return KeyTaken(record_of(item) if item else None)


class IdempotencyRepository:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or aws_client("dynamodb")

    def get(self, account_id: str, key_hash: str, *, now: int) -> IdempotencyRecord | None:
        """The live record under the key (strongly consistent), or None (never used, or expired)."""
        response = self._client.get_item(TableName=self._table, Key=key_of(account_id, key_hash),
                                         ConsistentRead=True)
        item = response.get("Item")
        record = record_of(item) if item else None
        return record if record is not None and record.expires_at >= now else None

    def complete(self, record: IdempotencyRecord) -> bool:
        """processing -> complete: the request that wrote it has queued its job. False if it was not `record`'s."""
        return self._conditional(self._client.update_item, Key=key_of(record.account_id, record.key_hash),
                                 UpdateExpression="SET #state = :complete",
                                 ConditionExpression="job_id = :job AND #state = :processing",
                                 ExpressionAttributeNames={"#state": "state"},
                                 ExpressionAttributeValues={":job": {"S": record.job_id},
                                                            ":complete": {"S": "complete"},
                                                            ":processing": {"S": "processing"}})

    def release(self, record: IdempotencyRecord) -> bool:
        """Free the key again (its job could not be queued and was ended): a retry creates a new job."""
        return self._conditional(self._client.delete_item, Key=key_of(record.account_id, record.key_hash),
                                 ConditionExpression="job_id = :job",
                                 ExpressionAttributeValues={":job": {"S": record.job_id}})

    def _conditional(self, write: Any, **params: Any) -> bool:
        try:
            write(TableName=self._table, **params)
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True
