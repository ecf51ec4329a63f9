"""What moto's DynamoDB needs to keep every write under concurrency, as DynamoDB does. Installed by local.moto_server.

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


def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto's DynamoDBBackend.transact_write_items with an undo log of the touched items instead of table copies."""
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.models.dynamo_type import DynamoType

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    undo: list[tuple[Any, Any, Any, Any]] = []  # (table, hash value, range value, the item before or None)
    touched: set[tuple[str, str]] = set()

    def remember(table_name: str, key: dict[str, Any]) -> None:
        identity = (str(table_name), str(dict(sorted(key.items()))))
        if identity in touched:
            raise MultipleTransactionsException()
        touched.add(identity)
        table = self.get_table(table_name)
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        before = table.get_item(hash_value, range_value)
        undo.append((table, hash_value, range_value, copy.deepcopy(before)))

    def roll_back() -> None:
        for table, hash_value, range_value, before in reversed(undo):
            _restore(table, hash_value, range_value, before)

    errors: list[tuple[Any, Any, Any]] = []
    for item in transact_items:
        original_item: dict[str, Any] | None = None
        if len(item) > 1:
            raise TransactWriteSingleOpException
        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            condition_expression = op.get("ConditionExpression")
            names = op.get("ExpressionAttributeNames")
            values = op.get("ExpressionAttributeValues")
            if op_type == "Put":
                table = self.get_table(table_name)
                attrs = op["Item"]
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            remember(table_name, key)
            current = self.get_item(table_name, key)
            if condition_expression is not None:
                condition = get_filter_expression(condition_expression, names, values)
                if not condition.expr(current):
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)
            if op_type == "Put":
                self.put_item(table_name, op["Item"], condition_expression=condition_expression,
                              expression_attribute_names=names, expression_attribute_values=values)
            elif op_type == "Delete":
                self.delete_item(table_name, key, condition_expression=condition_expression,
                                 expression_attribute_names=names, expression_attribute_values=values)
            elif op_type == "Update":
                self.update_item(table_name, key, update_expression=op["UpdateExpression"],
                                 condition_expression=condition_expression,
                                 expression_attribute_names=names, expression_attribute_values=values)
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            roll_back()
            raise
        except ConditionalCheckFailed as exc:
            errors.append(("ConditionalCheckFailed", str(exc.message), original_item))
        except Exception as exc:  # noqa: BLE001 - as moto: any other failure cancels the transaction with its reason
            errors.append((type(exc).__name__, str(exc), original_item))
    if any(code is not None for code, _, _ in errors):
        roll_back()
        raise TransactionCanceledException(errors)


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
