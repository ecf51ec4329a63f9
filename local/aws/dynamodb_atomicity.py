"""What moto's DynamoDB needs to keep every write under concurrency, as DynamoDB does. Installed by MotoServer.

moto's server runs each request on a thread of its own, and its DynamoDB backend has no locking:
`TransactWriteItems` deep-copies every table it touches and, on a cancelled transaction, puts the copy back,
undoing whatever other requests wrote meanwhile ("dictionary changed size during iteration" 500s, lost
ledger entries, jobs that vanish). The copy also makes each transaction cost as much as the table is large.

Three changes, nothing else of moto's behaviour:
- every DynamoDB request runs under one lock: each request is atomic, as DynamoDB guarantees per request;
- a cancelled transaction is undone from the items it touched (an undo log), not from whole-table copies;
- `ClientRequestToken` makes TransactWriteItems idempotent for 10 minutes, as DynamoDB documents: the same
  token and request again succeeds without writing; the same token with another request is
  IdempotentParameterMismatchException.

Written against moto 5.2.6 (local.aws.MOTO_VERSION): replaces DynamoHandler.call_action,
DynamoHandler.transact_write_items and DynamoDBBackend.transact_write_items, and reads the backend's tables.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
import time
from collections import OrderedDict
from typing import Any

# One lock for all DynamoDB requests (re-entrant: a transaction calls the backend's own item methods).
_LOCK = threading.RLock()
# DynamoDB keeps a client token for 10 minutes after the request that used it.
TOKEN_TTL_SECONDS = 600
# Bounded: a long run must not grow memory with every transaction it ever made.
MAX_TOKENS = 50_000

_tokens: OrderedDict[str, tuple[str, float]] = OrderedDict()
_installed = False  # token -> (request digest, time recorded)


def install() -> None:
    """Patch moto's DynamoDB classes (idempotent: a second call changes nothing)."""
    global _installed
    if _installed:
        return
    _installed = True
    from moto.core.responses import ActionResult
    from moto.dynamodb.exceptions import DynamodbException
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    class IdempotentParameterMismatch(DynamodbException):
        def __init__(self) -> None:
            super().__init__("com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException",
                             message="The request uses the same client token as a previous, but non-identical "
                                     "request.")

    original_call_action = DynamoHandler.call_action
    original_transact_handler = DynamoHandler.transact_write_items

    def call_action(self: Any) -> Any:
        with _LOCK:
            return original_call_action(self)

    def transact_write_items_handler(self: Any) -> Any:
        token = self.body.get("ClientRequestToken")
        if not token:
            return original_transact_handler(self)
        digest = _request_digest(self.body)
        seen = _remembered(token)
        if seen is not None:
            if seen != digest:
                raise IdempotentParameterMismatch()
            return ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})
        result = original_transact_handler(self)
        _remember(token, digest)
        return result

    DynamoHandler.call_action = call_action
    DynamoHandler.transact_write_items = transact_write_items_handler
    DynamoDBBackend.transact_write_items = transact_write_items


def _request_digest(body: dict[str, Any]) -> str:
    request = {key: value for key, value in body.items() if key != "ClientRequestToken"}
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


def _remembered(token: str) -> str | None:
    now = time.monotonic()
    while _tokens:
        oldest, (_, at) = next(iter(_tokens.items()))
        if now - at <= TOKEN_TTL_SECONDS and len(_tokens) <= MAX_TOKENS:
            break
        del _tokens[oldest]
    entry = _tokens.get(token)
    return entry[0] if entry else None


def _remember(token: str, digest: str) -> None:
    _tokens[token] = (digest, time.monotonic())


# One entry of TransactionCanceledException's reasons: (code, message, item); (None, None, None) for a write that
# went through.
_Reason = tuple[Any, Any, Any]
_WRITTEN: _Reason = (None, None, None)
_OPERATIONS = frozenset({"ConditionCheck", "Put", "Delete", "Update"})


def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto's DynamoDBBackend.transact_write_items with an undo log of the touched items instead of table copies."""
    from moto.dynamodb.exceptions import (
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    if any(len(item) != 1 for item in transact_items):  # DynamoDB validates the request before writing any of it
        raise TransactWriteSingleOpException
    undo = _UndoLog(self)
    reasons: list[_Reason] = []
    for item in transact_items:
        try:
            reasons.append(_write_one(self, item, undo))
        except (MultipleTransactionsException, MockValidationException):
            undo.roll_back()
            raise
    if any(code is not None for code, _, _ in reasons):
        undo.roll_back()
        raise TransactionCanceledException(reasons)


class _UndoLog:
    """The items a transaction touched, as they were before it; each item at most once per transaction."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend
        self._before: list[tuple[Any, Any, Any, Any]] = []  # (table, hash value, range value, the item or None)
        self._touched: set[tuple[str, str]] = set()

    def remember(self, table_name: str, key: dict[str, Any]) -> None:
        from moto.dynamodb.exceptions import MultipleTransactionsException
        from moto.dynamodb.models.dynamo_type import DynamoType

        identity = (str(table_name), str(dict(sorted(key.items()))))
        if identity in self._touched:
            raise MultipleTransactionsException()
        self._touched.add(identity)
        table = self._backend.get_table(table_name)
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        before = table.get_item(hash_value, range_value)
        self._before.append((table, hash_value, range_value, copy.deepcopy(before)))

    def roll_back(self) -> None:
        for table, hash_value, range_value, before in reversed(self._before):
            _restore(table, hash_value, range_value, before)


def _write_one(backend: Any, item: dict[str, Any], undo: _UndoLog) -> _Reason:
    """Checks and writes one transaction item; its cancellation reason if it failed. Raises what cancels the whole
    request at once (a second operation on one item, a validation error)."""
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
    )

    try:
        op_type, op = next(iter(item.items()))
        if op_type not in _OPERATIONS:
            raise ValueError("Unsupported transaction operation")
        key = _item_key(backend, op_type, op)
        undo.remember(op["TableName"], key)
        failed = _failed_condition(op, backend.get_item(op["TableName"], key))
        if failed is not None:
            return failed
        _apply(backend, op_type, op, key)
        return _WRITTEN
    except (MultipleTransactionsException, MockValidationException):
        raise
    except ConditionalCheckFailed as exc:
        return ("ConditionalCheckFailed", str(exc.message), None)
    except Exception as exc:  # noqa: BLE001 - as moto: any other failure cancels the transaction with its reason
        return (type(exc).__name__, str(exc), None)


def _item_key(backend: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        given: dict[str, Any] = op["Key"]
        return given
    table = backend.get_table(op["TableName"])
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def _failed_condition(op: dict[str, Any], current: Any) -> _Reason | None:
    """The ConditionalCheckFailed reason when the operation's condition does not hold on the current item."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import ConditionalCheckFailed

    expression = op.get("ConditionExpression")
    if expression is None:
        return None
    condition = get_filter_expression(expression, op.get("ExpressionAttributeNames"),
                                      op.get("ExpressionAttributeValues"))
    if condition.expr(current):
        return None
    old = None
    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
        old = current.to_json()["Attributes"]
    return ("ConditionalCheckFailed", str(ConditionalCheckFailed(item=old).message), old)


def _apply(backend: Any, op_type: str, op: dict[str, Any], key: dict[str, Any]) -> None:
    table_name = op["TableName"]
    expression = {"condition_expression": op.get("ConditionExpression"),
                  "expression_attribute_names": op.get("ExpressionAttributeNames"),
                  "expression_attribute_values": op.get("ExpressionAttributeValues")}
    if op_type == "Put":
        backend.put_item(table_name, op["Item"], **expression)
    elif op_type == "Delete":
        backend.delete_item(table_name, key, **expression)
    elif op_type == "Update":
        backend.update_item(table_name, key, update_expression=op["UpdateExpression"], **expression)


def _restore(table: Any, hash_value: Any, range_value: Any, before: Any) -> None:
    if range_value is not None:
        if before is None:
            table.items[hash_value].pop(range_value, None)
            if not table.items[hash_value]:
                del table.items[hash_value]
        else:
            table.items[hash_value][range_value] = before
    elif before is None:
        table.items.pop(hash_value, None)
    else:
        table.items[hash_value] = before
