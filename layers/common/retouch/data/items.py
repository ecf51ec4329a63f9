"""DynamoDB attribute (de)serialisation: plain Python in, plain Python out, no floats or Decimals leaking."""

from __future__ import annotations

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
    return dict(_serializer.serialize(_to_dynamo(value)))


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _from_dynamo(_deserializer.deserialize(value)) for key, value in item.items()}


# The table's key and index attributes: addressing, not part of any record.
KEY_ATTRIBUTES = ("pk", "sk", "gsi1pk", "gsi1sk", "sweep_pk", "gsi2pk", "gsi2sk")


def record_attributes(item: dict[str, Any], *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """An item as plain Python without its key attributes (and `drop`), ready for a record model."""
    data = from_item(item)
    for name in KEY_ATTRIBUTES + drop:
        data.pop(name, None)
    return data


def is_condition_failure(exc: Exception) -> bool:
    """A conditional write whose condition did not hold (the expected outcome of a lost race)."""
    response = getattr(exc, "response", None) or {}
    code: object = response.get("Error", {}).get("Code")
    return code == "ConditionalCheckFailedException"
