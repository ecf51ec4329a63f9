"""The ledger in DynamoDB: balance movements, each with its entry, and reading the entries back.

Every movement of a balance is one TransactWriteItems: the account update (conditional on the balance read
just before, so the entry's `balance_after` is exact), the ledger entry (put only if absent: idempotent by
job and kind) and, for jobs, the job's own state change (conditional on its state), and the reservation of the
request's Idempotency-Key when it has one (data/idempotency.py). The account item itself (reads, limits, the
request count) is data/account_state.py. Items:

    ACCOUNT#<id> / LEDGER#<entry_id>   an entry; gsi1: ACCOUNT#<id> / LEDGER#<at_ms>#<entry_id> (time order)
"""

from __future__ import annotations

import uuid
from typing import Any

from botocore.exceptions import ClientError

from retouch.data.account_state import AccountChanged, AccountStateRepository, account_key, account_record
from retouch.data.cursors import decode_cursor, encode_cursor
from retouch.data.idempotency import key_taken, reservation_put
from retouch.data.items import record_attributes, to_item
from retouch.models.account_records import AccountRecord, LedgerEntry
from retouch.models.idempotency import IdempotencyRecord


class JobStateChanged(Exception):
    """The job's own condition failed: another delivery already ended (or owns) it. Nothing was written."""


def _entry(item: dict[str, Any]) -> LedgerEntry:
    return LedgerEntry.model_validate(record_attributes(item))


def ledger_item(entry: LedgerEntry) -> dict[str, Any]:
    data = entry.model_dump(mode="json", exclude_none=True) | {
        "pk": f"ACCOUNT#{entry.account_id}",
        "sk": f"LEDGER#{entry.entry_id}",
        "gsi1pk": f"ACCOUNT#{entry.account_id}",
        "gsi1sk": f"LEDGER#{entry.at_ms:013d}#{entry.entry_id}",
    }
    return to_item(data)


def _code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def _reasons(exc: ClientError) -> list[dict[str, Any]]:
    return [dict(reason) for reason in exc.response.get("CancellationReasons") or []]


def _is_ledger_position(key: dict[str, str]) -> bool:
    return key["pk"] == key["gsi1pk"] and key["sk"].startswith("LEDGER#") and key["gsi1sk"].startswith("LEDGER#")


class LedgerRepository(AccountStateRepository):
    """The account item (read, limits, request count) and the movements of its balance, with their entries."""

    # ---- movements ----------------------------------------------------------------------------------------

    def _account_update(self, account_id: str, *, delta: int, expected_balance: int, in_flight_delta: int,
                        reserve: bool) -> dict[str, Any]:
        condition = "balance_micros = :expected"
        values = {":delta": {"N": str(delta)}, ":expected": {"N": str(expected_balance)},
                  ":in_flight": {"N": str(in_flight_delta)}}
        names: dict[str, str] = {}
        if reserve:
            # The guarantees of submit: never below zero, never above the in-flight limit, never while suspended.
            condition += " AND balance_micros >= :zero_after AND in_flight < max_in_flight AND #status = :active"
            values |= {":zero_after": {"N": str(-delta)}, ":active": {"S": "active"}}
            names["#status"] = "status"
        update = {
            "TableName": self._table,
            "Key": account_key(account_id),
            "UpdateExpression": "SET balance_micros = balance_micros + :delta, in_flight = in_flight + :in_flight",
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if names:
            update["ExpressionAttributeNames"] = names
        return update

    def _entry_put(self, entry: LedgerEntry) -> dict[str, Any]:
        return {"TableName": self._table, "Item": ledger_item(entry), "ConditionExpression": "attribute_not_exists(pk)"}

    def _transact(self, items: list[dict[str, Any]], *, job_index: int | None, account_index: int,
                  key: IdempotencyRecord | None = None) -> None:
        """Write `items` as one transaction, plus the reservation of `key` (an Idempotency-Key) when given.
        KeyTaken, JobStateChanged or AccountChanged (in that order) name which condition failed."""
        if key is not None:
            items = [*items, reservation_put(self._table, key)]
        try:
            # The token makes the SDK's own retries idempotent: a retry of a transaction that committed but whose
            # answer was lost succeeds without writing again (DynamoDB keeps tokens 10 minutes).
            self._client.transact_write_items(TransactItems=items, ClientRequestToken=uuid.uuid4().hex)
        except ClientError as exc:
            if _code(exc) != "TransactionCanceledException":
                raise
            reasons = _reasons(exc)
            codes = [r.get("Code") for r in reasons]
            if key is not None and len(codes) == len(items) and codes[-1] == "ConditionalCheckFailed":
                raise key_taken(reasons[-1]) from exc
            if job_index is not None and len(codes) > job_index and codes[job_index] == "ConditionalCheckFailed":
                raise JobStateChanged() from exc
            if len(codes) > account_index and codes[account_index] == "ConditionalCheckFailed":
                item = reasons[account_index].get("Item")
                raise AccountChanged(account_record(item) if item else None) from exc
            if "TransactionConflict" in codes:
                raise AccountChanged(None) from exc
            if any(code == "ConditionalCheckFailed" for code in codes):  # the ledger entry already exists
                raise JobStateChanged() from exc
            raise
        return None

    def reserve(self, job_item: dict[str, Any], entry: LedgerEntry, *, expected_balance: int,
                key: IdempotencyRecord | None = None) -> None:
        """Create the job and hold its price (and reserve the request's Idempotency-Key), atomically.
        AccountChanged when the account is not as read; KeyTaken when the key is another request's."""
        items = [
            {"Put": {"TableName": self._table, "Item": job_item, "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Update": self._account_update(entry.account_id, delta=entry.amount_micros,
                                            expected_balance=expected_balance, in_flight_delta=1, reserve=True)},
            {"Put": self._entry_put(entry)},
        ]
        self._transact(items, job_index=0, account_index=1, key=key)

    def settle(self, job_update: dict[str, Any], entry: LedgerEntry, *, expected_balance: int,
               key: IdempotencyRecord | None = None) -> None:
        """End the job (its own conditional update) and return its unused hold (and reserve the request's
        Idempotency-Key: a cancellation), atomically. JobStateChanged when the job was already ended or is owned
        by another delivery."""
        items = [
            {"Update": job_update},
            {"Update": self._account_update(entry.account_id, delta=entry.amount_micros,
                                            expected_balance=expected_balance, in_flight_delta=-1, reserve=False)},
            {"Put": self._entry_put(entry)},
        ]
        self._transact(items, job_index=0, account_index=1, key=key)

    def credit(self, entry: LedgerEntry, *, expected_balance: int) -> None:
        items = [
            {"Update": self._account_update(entry.account_id, delta=entry.amount_micros,
                                            expected_balance=expected_balance, in_flight_delta=0, reserve=False)},
            {"Put": self._entry_put(entry)},
        ]
        self._transact(items, job_index=None, account_index=0)

    # ---- reading the ledger -------------------------------------------------------------------------------

    def account_with_ledger(self, account_id: str) -> tuple[AccountRecord | None, list[LedgerEntry]]:
        """The account and all its entries from one strongly consistent query of its partition."""
        account: AccountRecord | None = None
        entries: list[LedgerEntry] = []
        paginator = self._client.get_paginator("query")
        for page in paginator.paginate(TableName=self._table, ConsistentRead=True,
                                       KeyConditionExpression="pk = :pk",
                                       ExpressionAttributeValues={":pk": {"S": f"ACCOUNT#{account_id}"}}):
            for item in page.get("Items", []):
                sk = item["sk"]["S"]
                if sk == "ACCOUNT":
                    account = account_record(item)
                elif sk.startswith("LEDGER#"):
                    entries.append(_entry(item))
        entries.sort(key=lambda e: (e.at_ms, e.entry_id))
        return account, entries

    def ledger_page(self, account_id: str, *, limit: int, cursor: str | None = None,
                    newest_first: bool = True) -> tuple[list[LedgerEntry], str | None]:
        """One page of the account's entries in time order; the cursor is opaque to callers."""
        params: dict[str, Any] = {
            "TableName": self._table, "IndexName": "gsi1", "Limit": limit, "ScanIndexForward": not newest_first,
            "KeyConditionExpression": "gsi1pk = :pk AND begins_with(gsi1sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": f"ACCOUNT#{account_id}"}, ":prefix": {"S": "LEDGER#"}},
        }
        if cursor:
            params["ExclusiveStartKey"] = decode_cursor(cursor, partition=f"ACCOUNT#{account_id}",
                                                        valid=_is_ledger_position)
        response = self._client.query(**params)
        return [_entry(item) for item in response.get("Items", [])], encode_cursor(response.get("LastEvaluatedKey"))
