"""End users' quota items: one item per (account, end user), changed only by single conditional UpdateItems.

    pk = ENDUSER#<account_id>#<end_user>   sk = END_USER
    gsi1pk = ACCOUNT#<account_id>          gsi1sk = ENDUSER#<spent_micros:015>#<end_user>   (GET /v1/end_users)

    pk = ENDUSER_DEFAULTS#<account_id>     sk = DEFAULTS   (the account's default limits)

A hold adds the job's images and price to the current day's and month's counters (and a request to the minute's)
with the limits in the update's own condition (`day_images <= limit - n`), so concurrent holds are refused exactly,
as the account's credit is (docs/billing.md): DynamoDB applies updates of one item one after another. The window a
counter belongs to is stored beside it; an update names the window it expects, and a new window starts the counter
again (conditioned on the old window, so two writers cannot both start it). `holds` (job id -> what it holds) makes a
hold and its release idempotent. The settle gives back what the job did not use, in the windows it was held in.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from retouch.data.clients import aws_client
from retouch.data.cursors import decode_cursor, encode_cursor, item_key
from retouch.data.items import from_item, is_condition_failure, record_attributes, to_value
from retouch.models.end_users import EndUserHold, EndUserLimits, EndUserRecord
from retouch.ports import QuotaCharge, QuotaRefused

# Tries of one move before giving up (each failure is a window rollover or a concurrent settle, never a refusal).
MOVE_TRIES = 25
_SPENT_DIGITS = 15


def end_user_key(account_id: str, end_user: str) -> dict[str, Any]:
    return {"pk": {"S": f"ENDUSER#{account_id}#{end_user}"}, "sk": {"S": "END_USER"}}


def _defaults_key(account_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ENDUSER_DEFAULTS#{account_id}"}, "sk": {"S": "DEFAULTS"}}


def _listing_sk(spent_micros: int, end_user: str) -> str:
    return f"ENDUSER#{spent_micros:0{_SPENT_DIGITS}d}#{end_user}"


def _record(item: dict[str, Any]) -> EndUserRecord:
    return EndUserRecord.model_validate(record_attributes(item))


Counter = tuple[str, int, int | None]  # (attribute, amount to add, the most it may hold before the addition)


class _Update:
    """One conditional UpdateItem being built: SET clauses, conditions, names and values."""

    def __init__(self) -> None:
        self.sets: list[str] = []
        self.conditions: list[str] = []
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def window(self, name: str, current: str, known: str | None, counters: list[Counter]) -> None:
        """Add to each counter of the window `current`: counted on when the item is in it (`known`), started again
        (conditioned on the older window it was in) when not."""
        self.names[f"#{name}"] = name
        self.values[f":{name}"] = {"S": current}
        continuing = known == current
        if continuing:
            self.conditions.append(f"#{name} = :{name}")
        else:
            self.sets.append(f"#{name} = :{name}")
            if known is not None:  # "" when the item has never counted in this window (made by a PUT of limits)
                self.values[f":{name}_old"] = {"S": known}
                self.conditions.append(f"(#{name} = :{name}_old OR attribute_not_exists(#{name}))" if not known
                                       else f"#{name} = :{name}_old")
        for counter, amount, room in counters:
            self.values[f":{counter}_add"] = {"N": str(amount)}
            self.sets.append(f"{counter} = {counter} + :{counter}_add" if continuing else f"{counter} = :{counter}_add")
            if continuing and room is not None:
                self.values[f":{counter}_room"] = {"N": str(room)}
                self.conditions.append(f"{counter} <= :{counter}_room")

    def request(self, table: str, key: dict[str, Any]) -> dict[str, Any]:
        return {"TableName": table, "Key": key, "UpdateExpression": "SET " + ", ".join(self.sets),
                "ConditionExpression": " AND ".join(self.conditions), "ExpressionAttributeNames": self.names,
                "ExpressionAttributeValues": self.values, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}


class EndUserRepository:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or aws_client("dynamodb")

    # ---- reads -------------------------------------------------------------------------------------------------

    def get(self, account_id: str, end_user: str) -> EndUserRecord | None:
        item = self._client.get_item(TableName=self._table, Key=end_user_key(account_id, end_user),
                                     ConsistentRead=True).get("Item")
        return _record(item) if item else None

    def defaults(self, account_id: str) -> EndUserLimits | None:
        item = self._client.get_item(TableName=self._table, Key=_defaults_key(account_id)).get("Item")
        return EndUserLimits.model_validate(from_item(item)["limits"]) if item else None

    def page(self, account_id: str, *, limit: int, cursor: str | None) -> tuple[list[EndUserRecord], str | None]:
        """The account's end users by total spend, highest first (then by id, descending); ValueError for a cursor
        that is not a position in this listing."""
        partition = f"ACCOUNT#{account_id}"

        def valid(key: dict[str, str]) -> bool:
            user = key["pk"].removeprefix(f"ENDUSER#{account_id}#")
            return (key["pk"].startswith(f"ENDUSER#{account_id}#") and key["sk"] == "END_USER"
                    and key["gsi1sk"].startswith("ENDUSER#") and key["gsi1sk"].endswith(f"#{user}"))

        start = decode_cursor(cursor, partition=partition, valid=valid) if cursor else None
        response = self._client.query(
            TableName=self._table, IndexName="gsi1", ScanIndexForward=False, Limit=limit + 1,
            KeyConditionExpression="gsi1pk = :pk AND begins_with(gsi1sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": partition}, ":prefix": {"S": "ENDUSER#"}},
            **({"ExclusiveStartKey": start} if start else {}))
        items = response.get("Items", [])
        next_key = response.get("LastEvaluatedKey")
        if len(items) > limit:
            items = items[:limit]
            next_key = item_key(items[-1])
        elif len(items) < limit + 1:
            next_key = None
        return [_record(item) for item in items], encode_cursor(next_key)

    # ---- limits ------------------------------------------------------------------------------------------------

    def set_limits(self, account_id: str, end_user: str, limits: EndUserLimits, now: int) -> EndUserRecord:
        response = self._client.update_item(
            TableName=self._table, Key=end_user_key(account_id, end_user), ReturnValues="ALL_NEW",
            UpdateExpression=("SET limits = :limits, " + self._creation_sets()),
            ExpressionAttributeValues={":limits": to_value(limits.model_dump()), **self._creation_values(
                account_id, end_user, now)})
        return _record(response["Attributes"])

    def set_defaults(self, account_id: str, limits: EndUserLimits) -> None:
        self._client.put_item(TableName=self._table, Item={**_defaults_key(account_id),
                                                           "limits": to_value(limits.model_dump())})

    @staticmethod
    def _creation_sets(*, with_holds: bool = True) -> str:
        """What a new item needs (kept as it is on an existing one)."""
        names = ("account_id", "end_user", "created_at", "gsi1pk", "gsi1sk", *(("holds",) if with_holds else ()),
                 "spent_micros", "images_total", "jobs_total")
        return ", ".join(f"{name} = if_not_exists({name}, :new_{name})" for name in names)

    @staticmethod
    def _creation_values(account_id: str, end_user: str, now: int) -> dict[str, Any]:
        return {":new_account_id": {"S": account_id}, ":new_end_user": {"S": end_user},
                ":new_created_at": {"N": str(now)}, ":new_gsi1pk": {"S": f"ACCOUNT#{account_id}"},
                ":new_gsi1sk": {"S": _listing_sk(0, end_user)}, ":new_holds": {"M": {}},
                ":new_spent_micros": {"N": "0"}, ":new_images_total": {"N": "0"}, ":new_jobs_total": {"N": "0"}}

    # ---- moves -------------------------------------------------------------------------------------------------

    def hold(self, account_id: str, end_user: str, charge: QuotaCharge) -> bool:
        """Count the request and hold the job's images and price within the limits; True when held now, False when
        the job held already (a retry). QuotaRefused (with the item as the refused update saw it) over a limit."""
        limits = charge.limits
        hold = to_value(EndUserHold(micros=charge.micros, images=charge.images, day=charge.day,
                                    month=charge.month).model_dump())
        known = self.get(account_id, end_user)
        if (charge.images > limits.images_per_day or charge.micros > limits.usd_per_day_micros
                or charge.micros > limits.usd_per_month_micros or limits.requests_per_minute < 1):
            raise QuotaRefused(known)  # more than a whole window allows (a new window's counter is not conditioned)
        for _ in range(MOVE_TRIES):
            if known is not None and charge.job_id in known.holds:
                return False
            update = _Update()
            update.window("minute", charge.minute, known.minute if known else None,
                          [("minute_requests", 1, limits.requests_per_minute - 1)])
            update.window("day", charge.day, known.day if known else None,
                          [("day_images", charge.images, limits.images_per_day - charge.images),
                           ("day_micros", charge.micros, limits.usd_per_day_micros - charge.micros)])
            update.window("month", charge.month, known.month if known else None,
                          [("month_micros", charge.micros, limits.usd_per_month_micros - charge.micros)])
            self._with_hold(update, account_id, end_user, charge.job_id, hold, known, charge.now)
            try:
                self._client.update_item(**update.request(self._table, end_user_key(account_id, end_user)))
                return True
            except ClientError as exc:
                current = self._refused_item(exc)
            if current is not None and known is not None and self._windows(current) == self._windows(known):
                if charge.job_id in current.holds:
                    return False
                raise QuotaRefused(current)
            known = current
        raise QuotaRefused(known)

    def _with_hold(self, update: _Update, account_id: str, end_user: str, job_id: str, hold: dict[str, Any],
                   known: EndUserRecord | None, now: int) -> None:
        if known is None:  # the end user's first request: the item is made by this update
            update.conditions.append("attribute_not_exists(pk)")
            update.sets.append(self._creation_sets(with_holds=False) + ", holds = :new_holds")
            update.values.update(self._creation_values(account_id, end_user, now))
            update.values[":new_holds"] = {"M": {job_id: hold}}
        else:
            update.conditions.append("attribute_not_exists(holds.#job)")
            update.sets.append("holds.#job = :hold")
            update.names["#job"] = job_id
            update.values[":hold"] = hold

    @staticmethod
    def _refused_item(exc: ClientError) -> EndUserRecord | None:
        if not is_condition_failure(exc):
            raise exc
        item = exc.response.get("Item")
        return _record(item) if isinstance(item, dict) else None

    @staticmethod
    def _windows(record: EndUserRecord | None) -> tuple[str, str, str] | None:
        return (record.minute, record.day, record.month) if record is not None else None

    def count_request(self, account_id: str, end_user: str, *, minute: str, limit: int, now: int) -> None:
        """One request in the minute's window (uploads): QuotaRefused at the limit."""
        known = self.get(account_id, end_user)
        for _ in range(MOVE_TRIES):
            update = _Update()
            update.window("minute", minute, known.minute if known else None, [("minute_requests", 1, limit - 1)])
            if known is None:
                update.conditions.append("attribute_not_exists(pk)")
                update.sets.append(self._creation_sets())
                update.values.update(self._creation_values(account_id, end_user, now))
            elif limit < 1:
                raise QuotaRefused(known)
            try:
                self._client.update_item(**update.request(self._table, end_user_key(account_id, end_user)))
                return
            except ClientError as exc:
                current = self._refused_item(exc)
            if current is not None and known is not None and current.minute == known.minute == minute:
                raise QuotaRefused(current)
            known = current
        raise QuotaRefused(known)

    def release(self, account_id: str, end_user: str, job_id: str, *, images: int, micros: int) -> bool:
        """The job's hold ends, charged `images` and `micros`; what it held beyond them goes back to the windows it
        was held in (if they are still current). False when it holds nothing (released before)."""
        for _ in range(MOVE_TRIES):
            current = self.get(account_id, end_user)
            if current is None or job_id not in current.holds:
                return False
            held = current.holds[job_id]
            spent = current.spent_micros + micros
            sets = ["spent_micros = :spent", "images_total = images_total + :images", "jobs_total = jobs_total + :one",
                    "gsi1sk = :sk"]
            values: dict[str, Any] = {":spent": {"N": str(spent)}, ":images": {"N": str(images)},
                                      ":one": {"N": "1"}, ":sk": {"S": _listing_sk(spent, end_user)},
                                      ":was_spent": {"N": str(current.spent_micros)},
                                      ":day": {"S": current.day}, ":month": {"S": current.month}}
            if current.day == held.day:
                sets += ["day_images = day_images - :unused_images", "day_micros = day_micros - :unused_micros"]
                values[":unused_images"] = {"N": str(max(0, held.images - images))}
                values[":unused_micros"] = {"N": str(max(0, held.micros - micros))}
            if current.month == held.month:
                sets.append("month_micros = month_micros - :unused_month")
                values[":unused_month"] = {"N": str(max(0, held.micros - micros))}
            try:
                self._client.update_item(
                    TableName=self._table, Key=end_user_key(account_id, end_user),
                    UpdateExpression="SET " + ", ".join(sets) + " REMOVE holds.#job",
                    ConditionExpression=("attribute_exists(holds.#job) AND spent_micros = :was_spent "
                                         "AND #day = :day AND #month = :month"),
                    ExpressionAttributeNames={"#job": job_id, "#day": "day", "#month": "month"},
                    ExpressionAttributeValues=values)
                return True
            except ClientError as exc:
                if not is_condition_failure(exc):
                    raise
        raise RuntimeError(f"the end user's hold of {job_id} kept changing under its release")
