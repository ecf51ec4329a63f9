"""An account's jobs by creation time (gsi1: ACCOUNT#<id> / JOB#<created_at>#<job_id>): usage, audits and the
GET /v1/jobs listing. Always a Query of the account's own partition, never a scan."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from retouch.data.clients import aws_client
from retouch.data.cursors import decode_cursor, encode_cursor, end_user_partition, item_key
from retouch.data.jobs import job_record
from retouch.models.records import JobRecord
from retouch.ports import MAX_EPOCH, JobFilter

# Epoch seconds are written as 12 digits in gsi1sk (which is why the port's latest time is MAX_EPOCH, 10**12 - 1).
_JOB_POSITION = re.compile(r"^JOB#[0-9]{12}#(job_[A-Za-z0-9]{24})$")
# A filtered page (status, kind, deleted jobs) may need more than one Query to fill; past this many it is answered
# short, with a cursor, so one request never reads an unbounded part of the index.
MAX_QUERIES_PER_PAGE = 5
# What each further Query of a filtered page evaluates at least (fewer round trips when matches are sparse).
FILTERED_READ_AHEAD = 25


def _sort_key_range(where: JobFilter) -> tuple[str, str] | None:
    """The gsi1sk range holding the jobs created in `where`'s bounds, or None when no second fits between them."""
    first = 0 if where.created_after is None else where.created_after + 1
    last = MAX_EPOCH if where.created_before is None else where.created_before - 1
    if first > last:
        return None
    return f"JOB#{first:012d}#", f"JOB#{last:012d}#~"


def _filter_expression(where: JobFilter) -> tuple[str, dict[str, str], dict[str, Any]]:
    """FilterExpression, its names and values: jobs their owner deleted (kept for billing) never show; status
    and kind are not in the key, so they filter the page too."""
    terms, names, values = ["attribute_not_exists(deleted_at)"], {}, {}
    for name, value in (("status", where.status), ("kind", where.kind)):
        if value is not None:
            terms.append(f"#{name} = :{name}")
            names[f"#{name}"] = name
            values[f":{name}"] = {"S": value}
    return " AND ".join(terms), names, values


def _is_job_position(key: dict[str, str]) -> bool:
    match = _JOB_POSITION.match(key.get("gsi1sk", key.get("gsi2sk", "")))
    return match is not None and key["pk"] == f"JOB#{match.group(1)}" and key["sk"] == "JOB"


class AccountJobs:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or aws_client("dynamodb")

    def created_between(self, account_id: str, start: int = 0, end: int = MAX_EPOCH) -> Iterator[JobRecord]:
        """Jobs created in [start, end] (epoch seconds), oldest first, all pages."""
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table, IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk AND gsi1sk BETWEEN :from AND :to",
            ExpressionAttributeValues={
                ":pk": {"S": f"ACCOUNT#{account_id}"},
                ":from": {"S": f"JOB#{start:012d}#"},
                ":to": {"S": f"JOB#{end:012d}#~"},
            },
        )
        for page in pages:
            for item in page.get("Items", []):
                yield job_record(item)

    def page(self, account_id: str, *, limit: int, cursor: str | None = None, where: JobFilter | None = None,
             ) -> tuple[list[JobRecord], str | None]:
        """Up to `limit` of the account's jobs matching `where`, newest first, and the cursor of the next page (None
        when there is none). ValueError for a cursor that is not a position in this account's jobs within `where`'s
        time bounds."""
        where = where or JobFilter()
        # One end user's jobs are their own partition of gsi2 (written with the job), never a filtered account read.
        index = "gsi1" if where.end_user is None else "gsi2"
        partition = f"ACCOUNT#{account_id}" if where.end_user is None else end_user_partition(account_id,
                                                                                              where.end_user)
        bounds = _sort_key_range(where)
        start = decode_cursor(cursor, partition=partition, valid=_is_job_position, index=index) if cursor else None
        if bounds is None:
            return [], None
        if start is not None and not bounds[0] <= start[f"{index}sk"]["S"] <= bounds[1]:
            raise ValueError("the cursor lies outside the listing's time bounds")
        condition, names, values = _filter_expression(where)
        params: dict[str, Any] = {
            "TableName": self._table, "IndexName": index, "ScanIndexForward": False,
            "KeyConditionExpression": f"{index}pk = :pk AND {index}sk BETWEEN :from AND :to",
            "FilterExpression": condition,
            "ExpressionAttributeValues": {":pk": {"S": partition}, ":from": {"S": bounds[0]},
                                          ":to": {"S": bounds[1]}, **values},
        }
        if names:
            params["ExpressionAttributeNames"] = names
        items: list[dict[str, Any]] = []
        for query in range(MAX_QUERIES_PER_PAGE):
            # One more than asked: whether another page exists is then known without a further read.
            wanted = limit + 1 - len(items)
            response = self._client.query(**params, Limit=wanted if query == 0 else max(wanted, FILTERED_READ_AHEAD),
                                          **({"ExclusiveStartKey": start} if start else {}))
            items += response.get("Items", [])
            start = response.get("LastEvaluatedKey")
            if len(items) > limit or start is None:
                break
        if len(items) > limit:
            items = items[:limit]
            start = item_key(items[-1], index)
        return [job_record(item) for item in items], encode_cursor(start)
