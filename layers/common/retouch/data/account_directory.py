"""The account directory: one small item per account, written when the account is made and never changed, on one
partition of gsi1 (`ACCOUNT_DIRECTORY`, by creation time), so the operator's console lists every account with a Query,
not a scan of the table (no function may scan it). Not on the account item itself: every hold and release updates
that one, and gsi1 projects everything, so each would also rewrite an index entry on a single hot partition.

    ACCOUNT#<id> / DIRECTORY     account_id, created_at; gsi1: ACCOUNT_DIRECTORY / ACCOUNT#<created_at>#<id>

Accounts made before the directory existed are entered by `retouch-admin index-accounts` (a scan, admin side). The
entry itself is made with the account (data/accounts.py `directory_item`: the authorizer loads that module, so it
stays free of this one's reads)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from retouch.data.account_state import account_key, account_record
from retouch.data.accounts import DIRECTORY_PARTITION as PARTITION
from retouch.data.accounts import directory_item
from retouch.data.clients import aws_client
from retouch.data.cursors import decode_cursor, encode_cursor
from retouch.models.account_records import AccountRecord

_POSITION = re.compile(r"^ACCOUNT#[0-9]{12}#(acct_[A-Za-z0-9]{16,32})$")


def _is_position(key: dict[str, str]) -> bool:
    match = _POSITION.match(key["gsi1sk"])
    return match is not None and key["pk"] == f"ACCOUNT#{match.group(1)}" and key["sk"] == "DIRECTORY"


class AccountDirectoryRepository:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or aws_client("dynamodb")

    def enter(self, account: AccountRecord) -> None:
        """The account's entry (the same item again when it has one: idempotent)."""
        self._client.put_item(TableName=self._table, Item=directory_item(account))

    def account_page(self, *, limit: int, cursor: str | None = None) -> tuple[list[AccountRecord], str | None]:
        """Up to `limit` accounts, newest first, each read from its own item; the cursor of the next page."""
        params: dict[str, Any] = {
            "TableName": self._table, "IndexName": "gsi1", "ScanIndexForward": False, "Limit": limit,
            "KeyConditionExpression": "gsi1pk = :pk", "ExpressionAttributeValues": {":pk": {"S": PARTITION}}}
        if cursor:
            params["ExclusiveStartKey"] = decode_cursor(cursor, partition=PARTITION, valid=_is_position)
        response = self._client.query(**params)
        accounts = []
        for entry in response.get("Items", []):
            item = self._client.get_item(TableName=self._table, Key=account_key(entry["account_id"]["S"])).get("Item")
            if item:
                accounts.append(account_record(item))
        return accounts, encode_cursor(response.get("LastEvaluatedKey"))

    def account_ids(self) -> Iterator[str]:
        """Every account in the directory, newest first, all pages."""
        paginator = self._client.get_paginator("query")
        for page in paginator.paginate(TableName=self._table, IndexName="gsi1", ScanIndexForward=False,
                                       KeyConditionExpression="gsi1pk = :pk",
                                       ExpressionAttributeValues={":pk": {"S": PARTITION}},
                                       ProjectionExpression="account_id"):
            for item in page.get("Items", []):
                yield item["account_id"]["S"]
