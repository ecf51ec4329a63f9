"""A fixed-window count kept on an item of its own kind (the account's submissions per minute, a job's webhook
redeliveries per hour): one conditional atomic update while the window is current and under its limit; the first
count of a new window starts it (a second conditional update). Losing the race to start a window counts again,
RATE_WINDOW_TRIES in all (retouch/retry.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from retouch.data.items import is_condition_failure
from retouch.retry import RATE_WINDOW_TRIES


@dataclass(frozen=True)
class Counted:
    """`admitted` with the window's count after this request; `item` as the last write returned it, or as the
    refusing condition saw it (None: the item does not exist)."""

    admitted: bool
    count: int
    item: dict[str, Any] | None


def count_in_window(update_item: Callable[..., dict[str, Any]], *, table: str, key: dict[str, Any],
                    count: str, window_attr: str, window: int, under: str, values: dict[str, Any] | None = None,
                    returns: str = "UPDATED_NEW") -> Counted | None:
    """Count one in `window` on `key`'s `count` attribute while it is below `under` (an attribute name or a value
    placeholder given in `values`). None when the window moved under every try (extreme contention)."""
    values = values or {}
    for _ in range(RATE_WINDOW_TRIES):
        try:
            response = update_item(
                TableName=table, Key=key, UpdateExpression=f"SET {count} = {count} + :one",
                ConditionExpression=f"{window_attr} = :w AND {count} < {under}",
                ExpressionAttributeValues={":one": {"N": "1"}, ":w": {"N": str(window)}, **values},
                ReturnValues=returns, ReturnValuesOnConditionCheckFailure="ALL_OLD")
            attributes = response["Attributes"]
            return Counted(True, int(attributes[count]["N"]), attributes)
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            item = exc.response.get("Item")  # ALL_OLD: the item as the failed condition saw it
            old = item if isinstance(item, dict) else None
        if not old:
            return Counted(False, 0, None)
        if old.get(window_attr, {}).get("N") == str(window):
            return Counted(False, int(old[count]["N"]), old)
        try:  # the first count of a new window starts it
            response = update_item(
                TableName=table, Key=key, UpdateExpression=f"SET {window_attr} = :w, {count} = :one",
                ConditionExpression=(f"attribute_exists(pk) AND "
                                     f"(attribute_not_exists({window_attr}) OR {window_attr} < :w)"),
                ExpressionAttributeValues={":one": {"N": "1"}, ":w": {"N": str(window)}}, ReturnValues=returns)
            return Counted(True, 1, response.get("Attributes"))
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
    return None
