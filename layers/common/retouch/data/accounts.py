"""Accounts and API-key hashes in DynamoDB."""

from __future__ import annotations

from typing import Any

from retouch.data.clients import aws_client
from retouch.data.items import record_attributes, to_item
from retouch.models.account_records import AccountRecord, ApiKeyRecord

# The account directory's partition of gsi1 (data/account_directory.py): one entry per account, made with it.
DIRECTORY_PARTITION = "ACCOUNT_DIRECTORY"


def directory_item(account: AccountRecord) -> dict[str, Any]:
    """The account's entry in the account directory: written once with the account, never changed."""
    return to_item({"pk": f"ACCOUNT#{account.account_id}", "sk": "DIRECTORY", "account_id": account.account_id,
                    "created_at": account.created_at, "gsi1pk": DIRECTORY_PARTITION,
                    "gsi1sk": f"ACCOUNT#{account.created_at:012d}#{account.account_id}"})


class AccountRepository:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or aws_client("dynamodb")

    def put_account(self, account: AccountRecord) -> None:
        """The account item, and its entry in the account directory (data/account_directory.py)."""
        data = account.model_dump(mode="json") | {"pk": f"ACCOUNT#{account.account_id}", "sk": "ACCOUNT"}
        self._client.put_item(TableName=self._table, Item=to_item(data))
        self._client.put_item(TableName=self._table, Item=directory_item(account))

    def get_account(self, account_id: str) -> AccountRecord | None:
        response = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": f"ACCOUNT#{account_id}"}, "sk": {"S": "ACCOUNT"}}
        )
        item = response.get("Item")
        return AccountRecord.model_validate(record_attributes(item)) if item else None

    def put_key(self, key: ApiKeyRecord) -> None:
        data = key.model_dump(mode="json") | {
            "pk": f"KEY#{key.key_hash}",
            "sk": "KEY",
            "gsi1pk": f"ACCOUNT#{key.account_id}",
            "gsi1sk": f"KEY#{key.key_id}",
        }
        self._client.put_item(TableName=self._table, Item=to_item(data), ConditionExpression="attribute_not_exists(pk)")

    def find_key(self, key_hash: str) -> ApiKeyRecord | None:
        response = self._client.get_item(TableName=self._table,
                                         Key={"pk": {"S": f"KEY#{key_hash}"}, "sk": {"S": "KEY"}})
        item = response.get("Item")
        return ApiKeyRecord.model_validate(record_attributes(item)) if item else None

    def list_keys(self, account_id: str) -> list[ApiKeyRecord]:
        response = self._client.query(
            TableName=self._table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk AND begins_with(gsi1sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": f"ACCOUNT#{account_id}"}, ":prefix": {"S": "KEY#"}},
        )
        return [ApiKeyRecord.model_validate(record_attributes(item)) for item in response.get("Items", [])]

    def revoke_key(self, key: ApiKeyRecord, revoked_at: int) -> None:
        """Marks the key revoked and lists its id on its account item, in one transaction."""
        self._client.transact_write_items(TransactItems=[
            {"Update": {
                "TableName": self._table,
                "Key": {"pk": {"S": f"KEY#{key.key_hash}"}, "sk": {"S": "KEY"}},
                "UpdateExpression": "SET revoked_at = :at",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": {":at": {"N": str(revoked_at)}},
            }},
            {"Update": {
                "TableName": self._table,
                "Key": {"pk": {"S": f"ACCOUNT#{key.account_id}"}, "sk": {"S": "ACCOUNT"}},
                "UpdateExpression": "SET revoked_key_ids = list_append(if_not_exists(revoked_key_ids, :none), :id)",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": {":none": {"L": []}, ":id": {"L": [{"S": key.key_id}]}},
            }},
        ])

    def set_key_cost_ceiling(self, key: ApiKeyRecord, max_cost_per_call_micros: int | None) -> ApiKeyRecord:
        """Sets (or, with None, removes) the key's per-call MCP ceiling; the key must still exist."""
        if max_cost_per_call_micros is None:
            update: dict[str, Any] = {"UpdateExpression": "REMOVE max_cost_per_call_micros"}
        else:
            update = {"UpdateExpression": "SET max_cost_per_call_micros = :limit",
                      "ExpressionAttributeValues": {":limit": {"N": str(max_cost_per_call_micros)}}}
        response = self._client.update_item(
            TableName=self._table, Key={"pk": {"S": f"KEY#{key.key_hash}"}, "sk": {"S": "KEY"}},
            ConditionExpression="attribute_exists(pk)", ReturnValues="ALL_NEW", **update)
        return ApiKeyRecord.model_validate(record_attributes(response["Attributes"]))
