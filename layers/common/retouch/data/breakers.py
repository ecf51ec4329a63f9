"""Circuit-breaker items in the table (pk `UPSTREAM#<name>`, sk `BREAKER`): one per upstream, shared by all
workers. Counters are atomic ADDs within a window; every state change is a conditional write, so two workers
never both trip, both probe, or lose each other's counts.

A window's failures are kept per account in the map `account_failures` (`ADD account_failures.#account :one`, atomic
like the other counters; the map is created with the window, and an item whose window predates the map starts a new
one); `failures` stays the window's total. The breaker (routing/breaker.py) decides from the map, so one account's
failures cannot trip it alone."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from retouch.data.clients import aws_client
from retouch.data.items import is_condition_failure
from retouch.retry import BREAKER_COUNT_TRIES
from retouch.routing.breaker import BreakerState, WindowCount


def breaker_key(upstream: str) -> dict[str, Any]:
    return {"pk": {"S": f"UPSTREAM#{upstream}"}, "sk": {"S": "BREAKER"}}


def _number(item: dict[str, Any], name: str) -> int | None:
    return int(item[name]["N"]) if name in item else None


class BreakerRepository:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or aws_client("dynamodb")

    def _update(self, upstream: str, **params: Any) -> dict[str, Any] | None:
        """One update of the upstream's item; None when its condition did not hold."""
        try:
            updated: dict[str, Any] = self._client.update_item(TableName=self._table, Key=breaker_key(upstream),
                                                               **params)
            return updated
        except ClientError as exc:
            if is_condition_failure(exc):
                return None
            raise

    def read(self, upstream: str) -> BreakerState | None:
        item = self._client.get_item(TableName=self._table, Key=breaker_key(upstream), ConsistentRead=True).get("Item")
        if not item:
            return None
        return BreakerState(upstream=upstream, state="open" if item.get("breaker_state", {}).get("S") == "open"
                            else "closed", window_start=_number(item, "window_start") or 0,
                            calls=_number(item, "calls") or 0, failures=_number(item, "failures") or 0,
                            open_until=_number(item, "open_until"), probe_until=_number(item, "probe_until"))

    def count(self, upstream: str, *, failed: bool, account: str, now: int, window_seconds: int) -> WindowCount:
        values: dict[str, Any] = {":one": {"N": "1"}, ":failed": {"N": "1" if failed else "0"},
                                  ":stale": {"N": str(now - window_seconds)}}
        names = {"#account": account} if failed else {}
        added_failure = ", account_failures.#account :one" if failed else ""
        first = {"M": {account: {"N": "1"}}} if failed else {"M": {}}
        for _ in range(BREAKER_COUNT_TRIES):
            added = self._update(upstream, UpdateExpression="ADD calls :one, failures :failed" + added_failure,
                                 ConditionExpression="window_start > :stale AND attribute_exists(account_failures)",
                                 ExpressionAttributeValues=values, ReturnValues="ALL_NEW",
                                 **({"ExpressionAttributeNames": names} if names else {}))
            if added is None:  # no window yet, a stale one, or one from before the per-account map: start one
                added = self._update(
                    upstream,
                    UpdateExpression="SET window_start = :now, calls = :one, failures = :failed, "
                                     "account_failures = :first, "
                                     "breaker_state = if_not_exists(breaker_state, :closed)",
                    ConditionExpression="attribute_not_exists(window_start) OR window_start <= :stale "
                                        "OR attribute_not_exists(account_failures)",
                    ExpressionAttributeValues={**values, ":now": {"N": str(now)}, ":closed": {"S": "closed"},
                                               ":first": first},
                    ReturnValues="ALL_NEW")
            if added is not None:
                attributes = added["Attributes"]
                by_account = attributes.get("account_failures", {}).get("M", {})
                return WindowCount(calls=int(attributes["calls"]["N"]),
                                   failures={name: int(value["N"]) for name, value in by_account.items()
                                             if int(value["N"])})
        raise RuntimeError(f"breaker of {upstream}: window kept moving under {BREAKER_COUNT_TRIES} counts")

    def trip(self, upstream: str, *, open_until: int) -> bool:
        return self._update(
            upstream, UpdateExpression="SET breaker_state = :open, open_until = :until REMOVE probe_until",
            ConditionExpression="attribute_not_exists(breaker_state) OR breaker_state = :closed",
            ExpressionAttributeValues={":open": {"S": "open"}, ":closed": {"S": "closed"},
                                       ":until": {"N": str(open_until)}}) is not None

    def take_probe(self, upstream: str, *, now: int, probe_until: int) -> bool:
        return self._update(
            upstream, UpdateExpression="SET probe_until = :lease",
            ConditionExpression="breaker_state = :open AND open_until <= :now "
                                "AND (attribute_not_exists(probe_until) OR probe_until <= :now)",
            ExpressionAttributeValues={":open": {"S": "open"}, ":now": {"N": str(now)},
                                       ":lease": {"N": str(probe_until)}}) is not None

    def close(self, upstream: str, *, now: int) -> None:
        self._update(upstream, UpdateExpression="SET breaker_state = :closed, window_start = :now, calls = :zero, "
                                                "failures = :zero, account_failures = :none "
                                                "REMOVE open_until, probe_until",
                     ExpressionAttributeValues={":closed": {"S": "closed"}, ":now": {"N": str(now)},
                                                ":zero": {"N": "0"}, ":none": {"M": {}}})

    def reopen(self, upstream: str, *, open_until: int) -> None:
        self._update(upstream, UpdateExpression="SET breaker_state = :open, open_until = :until REMOVE probe_until",
                     ExpressionAttributeValues={":open": {"S": "open"}, ":until": {"N": str(open_until)}})

    def release_probe(self, upstream: str) -> None:
        self._update(upstream, UpdateExpression="REMOVE probe_until", ConditionExpression="breaker_state = :open",
                     ExpressionAttributeValues={":open": {"S": "open"}})
