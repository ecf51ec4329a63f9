"""Per-account slots: at most `count` holders of one kind at once per account, each a lease that ends by itself.

    ACCOUNT#<id>/SLOTS / <KIND>#<n>     holder, expires_at (the lease's end; also the TTL)

A slot is taken with one conditional write (free, expired, or already this holder's), trying slot 0, 1, … up to
`count`, so taking one costs at most `count` writes and needs no read; released by removing its holder (only if it is
still this holder's). A holder whose function died frees its slot when the lease ends, as the breaker's probe lease
does (data/breakers.py). Used for the input URLs an account's jobs fetch at once (kind URL_FETCH, the worker) and the
requests an account holds on the synchronous entry (kind SYNC_HOLD).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from retouch.data.clients import aws_client
from retouch.data.items import is_condition_failure


def slot_key(account_id: str, kind: str, index: int) -> dict[str, Any]:
    return {"pk": {"S": f"ACCOUNT#{account_id}/SLOTS"}, "sk": {"S": f"{kind}#{index}"}}


class AccountSlotRepository:
    def __init__(self, table_name: str, *, kind: str, count: int, client: Any | None = None) -> None:
        self._table = table_name
        self._kind = kind
        self._count = count
        self._client = client or aws_client("dynamodb")

    def acquire(self, account_id: str, holder: str, *, now: int, until: int) -> bool:
        """One of the account's slots for `holder` until `until` (epoch seconds); False when all are held."""
        for index in range(self._count):
            try:
                self._client.update_item(
                    TableName=self._table, Key=slot_key(account_id, self._kind, index),
                    UpdateExpression="SET holder = :holder, expires_at = :until",
                    ConditionExpression="attribute_not_exists(holder) OR expires_at < :now OR holder = :holder",
                    ExpressionAttributeValues={":holder": {"S": holder}, ":until": {"N": str(until)},
                                               ":now": {"N": str(now)}})
            except ClientError as exc:
                if is_condition_failure(exc):
                    continue
                raise
            return True
        return False

    def release(self, account_id: str, holder: str) -> None:
        """`holder`'s slot is free again (nothing when it holds none: its lease ended and another took it)."""
        for index in range(self._count):
            try:
                self._client.update_item(
                    TableName=self._table, Key=slot_key(account_id, self._kind, index),
                    UpdateExpression="REMOVE holder", ConditionExpression="holder = :holder",
                    ExpressionAttributeValues={":holder": {"S": holder}})
            except ClientError as exc:
                if is_condition_failure(exc):
                    continue
                raise
            return
