"""Page cursors for per-account listings on gsi1: DynamoDB's LastEvaluatedKey as base64url JSON.

A cursor is only ever a position in the caller's own partition of the index. Decoding accepts exactly the four key
attributes, as strings of the listing's own shape, with gsi1pk the caller's partition; anything else (another
account's cursor, another listing's, an edited one) is a ValueError, which the routes answer with a 400. So a cursor
read or forged across accounts reaches no other account's items: the query's key condition names the caller's
partition, and the start key must lie in it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

KEY_NAMES = frozenset({"pk", "sk", "gsi1pk", "gsi1sk"})
_MAX_VALUE_CHARS = 512
# A real cursor is a few hundred characters; a longer one may be a JSON nesting bomb.
MAX_CURSOR_CHARS = 1024


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode() if key else None


def decode_cursor(cursor: str, *, partition: str, valid: Callable[[dict[str, str]], bool],
                  index: str = "gsi1") -> dict[str, Any]:
    """The start key `cursor` names, if it is one of the caller's `partition` (the index's pk: gsi1pk, or gsi2pk for
    an end user's own listing) that `valid` accepts (it gets the four values as plain strings); ValueError
    otherwise."""
    names = _key_names(index)
    if len(cursor) > MAX_CURSOR_CHARS:
        raise ValueError("invalid cursor")
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError, binascii.Error, RecursionError) as exc:
        raise ValueError("invalid cursor") from exc
    if not isinstance(key, dict) or set(key) != names:
        raise ValueError("invalid cursor")
    values: dict[str, str] = {}
    for name, value in key.items():
        if not (isinstance(value, dict) and set(value) == {"S"} and isinstance(value["S"], str)
                and len(value["S"]) <= _MAX_VALUE_CHARS):
            raise ValueError("invalid cursor")
        values[name] = value["S"]
    if values[f"{index}pk"] != partition or not valid(values):
        raise ValueError("invalid cursor")
    return key


def item_key(item: dict[str, Any], index: str = "gsi1") -> dict[str, Any]:
    """The start key that resumes a query of `index` just after `item` (what LastEvaluatedKey would be there)."""
    return {name: item[name] for name in _key_names(index)}


def _key_names(index: str) -> frozenset[str]:
    if index == "gsi1":
        return KEY_NAMES
    if index == "gsi2":
        return frozenset({"pk", "sk", "gsi2pk", "gsi2sk"})
    raise ValueError(f"no cursors on index {index}")


# gsi2: one partition per end user of an account, holding their jobs and files by time (GET /v1/jobs?user=,
# GET /v1/files?user=, the erasure of an end user). Only items made for an end user carry its keys (sparse).
def end_user_partition(account_id: str, end_user: str) -> str:
    return f"ENDUSER#{account_id}#{end_user}"


def end_user_index_key(account_id: str, end_user: str, sort_key: str) -> dict[str, str]:
    return {"gsi2pk": end_user_partition(account_id, end_user), "gsi2sk": sort_key}
