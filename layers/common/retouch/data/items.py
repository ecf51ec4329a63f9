"""DynamoDB attribute (de)serialisation: plain Python in, plain Python out, no floats or Decimals leaking."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, set)):
        return [_from_dynamo(v) for v in value]
    return value


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(_to_dynamo(value)) for key, value in data.items() if value is not None}


def to_value(value: Any) -> dict[str, Any]:
    return _serializer.serialize(_to_dynamo(value))


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _from_dynamo(_deserializer.deserialize(value)) for key, value in item.items()}


# The table's key and index attributes: addressing, not part of any record.
KEY_ATTRIBUTES = ("pk", "sk", "gsi1pk", "gsi1sk", "sweep_pk")


def record_attributes(item: dict[str, Any], *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """An item as plain Python without its key attributes (and `drop`), ready for a record model."""
    data = from_item(item)
    for name in KEY_ATTRIBUTES + drop:
        data.pop(name, None)
    return data


def is_condition_failure(exc: Exception) -> bool:
    """A conditional write whose condition did not hold (the expected outcome of a lost race)."""
    response = getattr(exc, "response", None) or {}
    return response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


MAX_CURSOR_CHARS = 1024


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    """A query's LastEvaluatedKey as an opaque page cursor (None: no further page)."""
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode() if key else None


def decode_cursor(cursor: str, prefixes: Mapping[str, str], *, gsi1pk: str) -> dict[str, Any]:
    """A cursor back into an ExclusiveStartKey of the gsi1 listing of `gsi1pk` (the caller's account): exactly
    the attributes in `prefixes`, each a short string starting with its prefix, and on the caller's own partition
    (so a cursor made for, or forged from, another account reads nothing of it). ValueError otherwise."""
    if len(cursor) > MAX_CURSOR_CHARS:  # a real one is a few hundred characters; a long one may be a nesting bomb
        raise ValueError("invalid cursor")
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError, RecursionError) as exc:
        raise ValueError("invalid cursor") from exc
    if not isinstance(key, dict) or set(key) != set(prefixes):
        raise ValueError("invalid cursor")
    for name, prefix in prefixes.items():
        value = key[name]
        if not (isinstance(value, dict) and set(value) == {"S"} and isinstance(value["S"], str)
                and value["S"].startswith(prefix) and len(value["S"]) <= 512):
            raise ValueError("invalid cursor")
    if key.get("gsi1pk") != {"S": gsi1pk}:
        raise ValueError("invalid cursor")
    return key
