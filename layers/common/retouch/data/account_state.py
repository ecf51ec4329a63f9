"""The account item outside its ledger: reading it, its limits and status, and the per-minute request count.

Balances move only with a ledger entry (data/ledger.py, which extends this repository with those movements).

    ACCOUNT#<id> / ACCOUNT             the account: balance_micros, in_flight, limits, rate window
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from botocore.exceptions import ClientError

from retouch.data.clients import aws_client
from retouch.data.items import is_condition_failure, record_attributes, to_item
from retouch.data.windows import count_in_window
from retouch.models.account_records import AccountRecord
from retouch.ports import AccountMissing, RateCount
from retouch.retry import CONFLICT_TRIES, conflict_backoff_seconds

_RATE_FIELDS = ("rate_window", "rate_count")


def account_key(account_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ACCOUNT#{account_id}"}, "sk": {"S": "ACCOUNT"}}


class AccountChanged(Exception):
    """The account was not as read (balance moved, a concurrent transaction, a limit or status). `current` is
    the item as DynamoDB saw it when it said so, when it said; the caller re-decides and retries."""

    def __init__(self, current: AccountRecord | None) -> None:
        super().__init__("account changed")
        self.current = current


def account_record(item: dict[str, Any]) -> AccountRecord:
    return AccountRecord.model_validate(record_attributes(item, drop=_RATE_FIELDS))


class AccountStateRepository:
    def __init__(self, table_name: str, client: Any | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._table = table_name
        self._client = client or aws_client("dynamodb")
        self._sleep = sleep

    def _update_account(self, **params: Any) -> tuple[dict[str, Any], int]:
        """UpdateItem on the account item, waiting out an operator's credit transaction in flight (DynamoDB answers
        TransactionConflictException, which the SDK does not retry); (response, tries)."""
        for attempt in range(CONFLICT_TRIES):
            try:
                return dict(self._client.update_item(**params)), attempt + 1
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if code != "TransactionConflictException" or attempt == CONFLICT_TRIES - 1:
                    raise
                self._sleep(conflict_backoff_seconds(attempt))
        raise AssertionError("unreachable")

    def get_account(self, account_id: str) -> AccountRecord | None:
        response = self._client.get_item(TableName=self._table, Key=account_key(account_id), ConsistentRead=True)
        item = response.get("Item")
        return account_record(item) if item else None

    def account_ids(self) -> Iterator[str]:
        """Every account (a scan: admin and reconciliation only, never on a request path)."""
        paginator = self._client.get_paginator("scan")
        for page in paginator.paginate(TableName=self._table, FilterExpression="sk = :account",
                                       ProjectionExpression="account_id",
                                       ExpressionAttributeValues={":account": {"S": "ACCOUNT"}}):
            for item in page.get("Items", []):
                yield item["account_id"]["S"]

    def set_fields(self, account_id: str, fields: dict[str, Any]) -> AccountRecord:
        """Limits or status (never the balance: that only moves with a ledger entry)."""
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values = {f":v{i}": to_item({"v": value})["v"] for i, value in enumerate(fields.values())}
        try:
            response = self._client.update_item(
                TableName=self._table, Key=account_key(account_id),
                UpdateExpression="SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields))),
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames=names, ExpressionAttributeValues=values, ReturnValues="ALL_NEW")
        except ClientError as exc:
            if is_condition_failure(exc):
                raise AccountMissing(account_id) from exc
            raise
        return account_record(response["Attributes"])

    def count_request(self, account_id: str, window: int) -> RateCount:
        """Count one request in the fixed one-minute `window` (an epoch minute) on the account item itself, and
        return the account as it is now: one write that is also the submit path's read of the account."""
        counted = count_in_window(lambda **params: self._update_account(**params)[0], table=self._table,
                                  key=account_key(account_id), count="rate_count", window_attr="rate_window",
                                  window=window, under="requests_per_minute", returns="ALL_NEW")
        if counted is not None and counted.item is None:
            raise AccountMissing(account_id)
        if counted is not None and counted.item is not None:
            return RateCount(account_record(counted.item), counted.count, counted.admitted)
        raise AccountChanged(None)
