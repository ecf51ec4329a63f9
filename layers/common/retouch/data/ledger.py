"""The ledger in DynamoDB: the account's balance moves and their entries, and reading the entries back.

A balance moves by one conditional atomic update of the account item and nothing else, so moves of one account
never contend (DynamoDB applies single-item updates one after another; only a transaction holding the item makes
them fail, and no job path uses one on the account):
- hold:    balance -= price, in_flight += 1, holds[job] = price, if active, balance >= price, below the in-flight
           limit and the job holds nothing yet;
- release: balance += what comes back, in_flight -= 1, holds[job] removed, if the job holds something.
The `holds` map makes both idempotent: a retried hold finds its job there, a retried release finds it gone. Each
move's entry is written after it, with the job's pending flag cleared in the same transaction (`confirm_*`), so an
interrupted move is finished from the job item by the sweeper (billing/charges.py has the protocol). Items:

    ACCOUNT#<id> / LEDGER#<entry_id>   an entry; gsi1: ACCOUNT#<id> / LEDGER#<at_ms>#<entry_id> (time order)
"""

from __future__ import annotations

import uuid
from typing import Any

from botocore.exceptions import ClientError

from retouch.data.account_state import AccountStateRepository, account_key, account_record
from retouch.data.cursors import decode_cursor, encode_cursor
from retouch.data.items import record_attributes, to_item
from retouch.data.jobs import job_key
from retouch.models.account_records import AccountRecord, LedgerEntry
from retouch.ports import CreditRefused, CreditWritten, HoldRefused, Movement
from retouch.retry import CONFLICT_TRIES, HOLDS_MAP_TRIES, conflict_backoff_seconds


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
    return str(exc.response.get("Error", {}).get("Code", ""))


def _is_ledger_position(key: dict[str, str]) -> bool:
    return key["pk"] == key["gsi1pk"] and key["sk"].startswith("LEDGER#") and key["gsi1sk"].startswith("LEDGER#")


def _missing_holds_map(exc: ClientError) -> bool:
    """An account written before holds existed: a path into a map that is not there is a ValidationException."""
    return _code(exc) == "ValidationException" and "document path" in str(exc)


class LedgerRepository(AccountStateRepository):
    """The account item (read, limits, request count) and the movements of its balance, with their entries."""

    # ---- balance moves: single-item atomic updates --------------------------------------------------------

    def _move(self, update: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None, int]:
        """(new values, None, tries) when the update applied; (None, the item as the failed condition saw it, tries)
        when it did not. A missing holds map (an account from before holds) is made first."""
        for _ in range(HOLDS_MAP_TRIES):
            try:
                # ALL_NEW, not UPDATED_NEW: a move of 0 leaves the balance as it was, and an unchanged attribute
                # need not come back with UPDATED_NEW (moto leaves it out); the account item is small.
                response, tries = self._update_account(**update, ReturnValues="ALL_NEW",
                                                       ReturnValuesOnConditionCheckFailure="ALL_OLD")
                return response.get("Attributes", {}), None, tries
            except ClientError as exc:
                if _code(exc) == "ConditionalCheckFailedException":
                    item = exc.response.get("Item")
                    return None, item if isinstance(item, dict) else {}, 1
                if not _missing_holds_map(exc):
                    raise
                self._add_holds_map(update["Key"])
        raise AssertionError("the holds map was made and is still missing")

    def _add_holds_map(self, key: dict[str, Any]) -> None:
        try:
            self._client.update_item(TableName=self._table, Key=key, UpdateExpression="SET holds = :empty",
                                     ConditionExpression="attribute_exists(pk) AND attribute_not_exists(holds)",
                                     ExpressionAttributeValues={":empty": {"M": {}}})
        except ClientError as exc:
            if _code(exc) != "ConditionalCheckFailedException":
                raise

    def hold(self, account_id: str, job_id: str, micros: int) -> Movement:
        """Take `micros` from the balance for `job_id`. HoldRefused (with the account as it was) when the account is
        suspended or missing, short of credit or at its in-flight limit; `applied=False` when the job holds already
        (an earlier try committed and its answer was lost)."""
        new, old, tries = self._move({
            "TableName": self._table, "Key": account_key(account_id),
            "UpdateExpression": ("SET balance_micros = balance_micros - :price, in_flight = in_flight + :one, "
                                 "holds.#job = :price"),
            "ConditionExpression": ("attribute_exists(pk) AND #status = :active AND balance_micros >= :price "
                                    "AND in_flight < max_in_flight AND attribute_not_exists(holds.#job)"),
            "ExpressionAttributeNames": {"#status": "status", "#job": job_id},
            "ExpressionAttributeValues": {":price": {"N": str(micros)}, ":one": {"N": "1"},
                                          ":active": {"S": "active"}},
        })
        if new is not None:
            return Movement(applied=True, balance_after_micros=int(new["balance_micros"]["N"]), tries=tries)
        if old and job_id in old.get("holds", {}).get("M", {}):
            return Movement(applied=False, balance_after_micros=None, tries=tries)
        raise HoldRefused(account_record(old) if old else None)

    def release(self, account_id: str, job_id: str, micros: int) -> Movement:
        """Give `micros` of `job_id`'s hold back and drop the hold; `applied=False` when it holds nothing (released
        before: a second delivery, the sweeper finishing a move whose writer died)."""
        new, _, tries = self._move({
            "TableName": self._table, "Key": account_key(account_id),
            "UpdateExpression": ("SET balance_micros = balance_micros + :back, in_flight = in_flight - :one "
                                 "REMOVE holds.#job"),
            "ConditionExpression": "attribute_exists(holds.#job)",
            "ExpressionAttributeNames": {"#job": job_id},
            "ExpressionAttributeValues": {":back": {"N": str(micros)}, ":one": {"N": "1"}},
        })
        if new is None:
            return Movement(applied=False, balance_after_micros=None, tries=tries)
        return Movement(applied=True, balance_after_micros=int(new["balance_micros"]["N"]), tries=tries)

    def is_held(self, account_id: str, job_id: str) -> bool:
        response = self._client.get_item(TableName=self._table, Key=account_key(account_id), ConsistentRead=True,
                                         ProjectionExpression="holds.#job", ExpressionAttributeNames={"#job": job_id})
        return job_id in response.get("Item", {}).get("holds", {}).get("M", {})

    # ---- entries: written with the job's pending flag cleared, in one transaction -------------------------

    def _confirm(self, entry: LedgerEntry, flag: str, also_remove: str = "") -> bool:
        if entry.job_id is None:
            raise ValueError("a job's entry names its job")
        items = [
            {"Update": {"TableName": self._table, "Key": job_key(entry.job_id),
                        "UpdateExpression": f"REMOVE {flag}{also_remove}",
                        "ConditionExpression": f"attribute_exists({flag})"}},
            {"Put": {"TableName": self._table, "Item": ledger_item(entry),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
        ]
        try:
            # The token makes the SDK's own retries idempotent (a committed try whose answer was lost).
            self._client.transact_write_items(TransactItems=items, ClientRequestToken=uuid.uuid4().hex)
        except ClientError as exc:
            if _code(exc) != "TransactionCanceledException":
                raise
            codes = [reason.get("Code") for reason in exc.response.get("CancellationReasons") or []]
            if "ConditionalCheckFailed" in codes:
                return False  # confirmed already, or the job was discarded: nothing written
            raise
        return True

    def confirm_hold(self, entry: LedgerEntry) -> bool:
        """The reserve entry, and the job runnable (hold_pending cleared). False when it was done already or the job
        is not waiting for it."""
        return self._confirm(entry, "hold_pending")

    def confirm_release(self, entry: LedgerEntry) -> bool:
        """The settle entry, and the ended job off the sweep index (release_pending cleared). False when done."""
        return self._confirm(entry, "release_pending", ", sweep_pk, watch_at")

    # ---- moves that are transactions with the account (rare: an operator's credit, a pre-holds job's release) ------

    def _transact_with_account(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Write `items` (the account among them) as one transaction, waiting out a conflicting one in flight; []
        when written, else the cancellation reasons, one per item (a condition failed: nothing was written)."""
        token = uuid.uuid4().hex  # the same token on every try: a committed try is not applied twice
        for attempt in range(CONFLICT_TRIES):
            try:
                self._client.transact_write_items(TransactItems=items, ClientRequestToken=token)
                return []
            except ClientError as exc:
                if _code(exc) != "TransactionCanceledException":
                    raise
                reasons = [dict(reason) for reason in exc.response.get("CancellationReasons") or []]
                codes = [reason.get("Code") for reason in reasons]
                if "ConditionalCheckFailed" in codes:
                    return reasons
                if "TransactionConflict" not in codes or attempt == CONFLICT_TRIES - 1:
                    raise
                self._sleep(conflict_backoff_seconds(attempt))
        raise AssertionError("unreachable")

    def credit(self, entry: LedgerEntry) -> None:
        """Add `entry.amount_micros` (negative: a correction, refused below zero) with its entry, one transaction.
        CreditRefused when the account is missing or the balance would go negative; CreditWritten when an entry with
        its id exists (nothing moved)."""
        condition = "attribute_exists(pk)"
        values: dict[str, Any] = {":amount": {"N": str(entry.amount_micros)}}
        if entry.amount_micros < 0:
            condition += " AND balance_micros >= :taken"
            values[":taken"] = {"N": str(-entry.amount_micros)}
        refused = self._transact_with_account([
            {"Update": {"TableName": self._table, "Key": account_key(entry.account_id),
                        "UpdateExpression": "SET balance_micros = balance_micros + :amount",
                        "ConditionExpression": condition, "ExpressionAttributeValues": values,
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
            {"Put": {"TableName": self._table, "Item": ledger_item(entry),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
        ])
        if refused and refused[0].get("Code") == "ConditionalCheckFailed":
            item = refused[0].get("Item")
            raise CreditRefused(account_record(dict(item)) if item else None)
        if refused:  # the entry's id exists: this credit was written before
            raise CreditWritten(entry.entry_id)

    def release_unmapped(self, entry: LedgerEntry) -> Movement:
        """The release of a job reserved before holds existed (in flight at the deploy that brought them): the
        account (balance back, in_flight down), the job's release_pending cleared and the settle entry, one
        transaction, so it moves once. `applied=False` when it was done already."""
        if entry.job_id is None:
            raise ValueError("a job's entry names its job")
        refused = self._transact_with_account([
            {"Update": {"TableName": self._table, "Key": account_key(entry.account_id),
                        "UpdateExpression": "SET balance_micros = balance_micros + :back, in_flight = in_flight - :one",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": {":back": {"N": str(entry.amount_micros)}, ":one": {"N": "1"}}}},
            {"Update": {"TableName": self._table, "Key": job_key(entry.job_id),
                        "UpdateExpression": "REMOVE release_pending, sweep_pk, watch_at",
                        "ConditionExpression": "attribute_exists(release_pending)"}},
            {"Put": {"TableName": self._table, "Item": ledger_item(entry),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
        ])
        return Movement(applied=not refused, balance_after_micros=None)

    # ---- reading the ledger -------------------------------------------------------------------------------

    def entry(self, account_id: str, entry_id: str) -> LedgerEntry | None:
        """One entry by its id (strongly consistent), or None."""
        item = self._client.get_item(TableName=self._table, ConsistentRead=True, Key={
            "pk": {"S": f"ACCOUNT#{account_id}"}, "sk": {"S": f"LEDGER#{entry_id}"}}).get("Item")
        return _entry(item) if item else None

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
