"""The local DynamoDB's transaction conflicts, as DynamoDB produces them. Installed by local.aws.moto_server after
local.aws.dynamodb_atomicity (whose per-request lock it relies on).

DynamoDB's developer guide ("Amazon DynamoDB Transactions: How it works", section "Transaction conflict handling in
DynamoDB"): while a TransactWriteItems is in flight, its items are part of it, and
- another TransactWriteItems that includes one of them is cancelled: TransactionCanceledException whose
  CancellationReasons hold `TransactionConflict` ("Transaction is ongoing for the item.", the message the API
  reference's CancellationReason page gives) for each held item and `None` for the others;
- a PutItem, UpdateItem or DeleteItem of one of them fails with TransactionConflictException (HTTP 400);
- a GetItem, Query or Scan is not blocked ("both operations can succeed").
BatchWriteItem is left alone: the guide lists only the three single-item writes as rejected, its isolation table
says each write of a batch is serializable with transactions (the per-request lock gives that), and BatchWriteItem's
API model has no TransactionConflictException. Nor are TransactGetItems cancelled (the guide says they are): Retouch
sends none (its functions may not, see tests/unit/template), and reads stay unblocked.

The model, each request still atomic under dynamodb_atomicity's lock: a conflicting transaction is cancelled before any
of it is written; one that does not is written at once, then holds its items for `hold_seconds` after the lock is
released, and only then answers, so from the client's side it takes that long, as a real one does. Holds are kept
in a dict bounded by the transactions in flight (each removes its own; an expired hold is dropped by the next check
should its owner die), so a long run keeps no memory of past conflicts.

DEFAULT_HOLD_SECONDS (20 ms): a transaction writes every item twice, "one to prepare the transaction and one to
commit the transaction" (guide, "Capacity management for transactions"); its items are held between the two. Each
phase is a replicated write to every item's storage node through the transaction coordinator, and DynamoDB serves a
single write in single-digit milliseconds, so two such rounds plus the coordinator's hops land in the tens of
milliseconds. An estimate from that documented protocol, not a figure AWS publishes; 0 turns conflicts off.

What the SDK does with it (botocore 1.44, read from botocore/data/_retry.json and botocore/retries/standard.py):
TransactionConflictException is retried by neither retry mode. The legacy mode's DynamoDB policies retry only
ReplicatedWriteConflictException, TransactionInProgressException and CRC32 mismatches (besides the general 5xx,
throttling and ProvisionedThroughputExceeded); the standard and adaptive modes retry transient codes and status
codes (500/502/503/504), the throttling codes (TransactionInProgressException among them) and errors the service
model marks retryable, and TransactionConflictException has no `retryable` trait. So a single-item write on a held
item reaches the caller at once, as does a TransactionCanceledException: retrying is the application's choice.

Written against moto 5.2.6 (local.aws.MOTO_VERSION): wraps DynamoHandler.call_action and
DynamoDBBackend.transact_write_items (and its single-item writes), and reads the backend's tables.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

DEFAULT_HOLD_SECONDS = 0.02
CONFLICT_MESSAGE = "Transaction is ongoing for the item."
_ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
_SINGLE_WRITES = ("put_item", "update_item", "delete_item")

# (table name, key attributes as canonical JSON): one item, however a request spells its key.
ItemId = tuple[str, str]


class ItemHolds:
    """Which items in-flight transactions hold, until when. Thread-safe; bounded by the transactions in flight."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[ItemId, tuple[int, float]] = {}  # item -> (holding transaction, monotonic deadline)
        self._next_owner = 0

    def held(self, items: list[ItemId]) -> list[bool]:
        """For each item, whether a transaction holds it now."""
        now = time.monotonic()
        with self._lock:
            self._drop_expired(now)
            return [item in self._held for item in items]

    def hold(self, items: list[ItemId], seconds: float) -> int:
        """Hold `items` for `seconds` (unless released sooner); returns the owner to release with."""
        deadline = time.monotonic() + seconds
        with self._lock:
            self._next_owner += 1
            owner = self._next_owner
            for item in items:
                self._held[item] = (owner, deadline)
            return owner

    def release(self, owner: int) -> None:
        with self._lock:
            for item in [item for item, (holder, _) in self._held.items() if holder == owner]:
                del self._held[item]

    def __len__(self) -> int:
        with self._lock:
            return len(self._held)

    def _drop_expired(self, now: float) -> None:
        for item in [item for item, (_, deadline) in self._held.items() if deadline <= now]:
            del self._held[item]


_holds = ItemHolds()
# The holds the current request's transaction took, for the request's thread to release once it has waited them out.
_request = threading.local()
_installed = False


def install(hold_seconds: float) -> None:
    """Patch moto's DynamoDB so transactions hold their items for `hold_seconds` (0: no holds, no conflicts).
    Idempotent: a second call changes nothing."""
    global _installed
    if _installed or hold_seconds <= 0:
        return
    _installed = True
    from moto.dynamodb.exceptions import DynamodbException, TransactionCanceledException
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    class TransactionConflict(DynamodbException):
        def __init__(self) -> None:
            super().__init__(_ERROR_PREFIX + "TransactionConflictException", message=CONFLICT_MESSAGE)

    locked_call_action = DynamoHandler.call_action  # dynamodb_atomicity's: the whole request under its lock
    write_transaction = DynamoDBBackend.transact_write_items

    def call_action(self: Any) -> Any:
        _request.owner = None
        try:
            return locked_call_action(self)
        finally:
            owner, _request.owner = _request.owner, None
            if owner is not None:  # the transaction was written: it answers once its hold has passed
                time.sleep(hold_seconds)
                _holds.release(owner)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        items = _transaction_items(self, transact_items)
        if items is None:  # malformed: moto's own validation answers
            write_transaction(self, transact_items)
            return
        conflicts = _holds.held(items)
        if any(conflicts):
            raise TransactionCanceledException(
                [("TransactionConflict", CONFLICT_MESSAGE, None) if held else (None, None, None)
                 for held in conflicts])
        write_transaction(self, transact_items)
        _request.owner = _holds.hold(items, hold_seconds)

    def refuse_held(original: Any) -> Any:
        def single_write(self: Any) -> Any:
            item = _single_write_item(self.dynamodb_backend, self.body)
            if item is not None and _holds.held([item])[0]:
                raise TransactionConflict()
            return original(self)
        return single_write

    DynamoHandler.call_action = call_action
    DynamoDBBackend.transact_write_items = transact_write_items
    for action in _SINGLE_WRITES:
        setattr(DynamoHandler, action, refuse_held(getattr(DynamoHandler, action)))


def _item_id(backend: Any, table_name: str, attributes: dict[str, Any]) -> ItemId | None:
    """The item that `attributes` (a key, or a whole item) name; None if the table or a key attribute is missing."""
    try:
        table = backend.get_table(table_name)
    except Exception:  # noqa: BLE001 - moto's own handling answers for a missing table
        return None
    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    if any(name not in attributes for name in names):
        return None
    return (str(table_name), json.dumps({name: attributes[name] for name in names}, sort_keys=True))


def _transaction_items(backend: Any, transact_items: list[dict[str, Any]]) -> list[ItemId] | None:
    """The items of a transaction, in its order; None when moto's validation must refuse it first (too many
    actions, an action of two operations, an item named twice, a missing table or key)."""
    if len(transact_items) > 100 or any(len(action) != 1 for action in transact_items):
        return None
    items: list[ItemId] = []
    for action in transact_items:
        op_type, op = next(iter(action.items()))
        attributes = op.get("Item") if op_type == "Put" else op.get("Key")
        item = _item_id(backend, op.get("TableName", ""), attributes or {})
        if item is None:
            return None
        items.append(item)
    return items if len(set(items)) == len(items) else None


def _single_write_item(backend: Any, body: dict[str, Any]) -> ItemId | None:
    attributes = body.get("Key") or body.get("Item") or {}
    return _item_id(backend, body.get("TableName", ""), attributes)
