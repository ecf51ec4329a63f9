"""An account's jobs by creation time (gsi1: ACCOUNT#<id> / JOB#<created_at>#<job_id>), for usage and audits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from retouch.data.clients import aws_client
from retouch.data.jobs import job_record
from retouch.models.records import JobRecord


class AccountJobs:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or aws_client("dynamodb")

    def created_between(self, account_id: str, start: int = 0, end: int = 10**12 - 1) -> Iterator[JobRecord]:
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
