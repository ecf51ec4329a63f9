"""Erasures of end users, and the end user's own items they go through.

    ERASURE#<erasure_id> / ERASURE    the erasure's record and progress (TTL 30 days)
    gsi2: ENDUSER#<account>#<user> / JOB#<created>#<job_id> | FILE#<created>#<file_id>   (the end user's items)

Erasing takes an item out of the end user's partition of gsi2 (a job keeps its billing tombstone; a file goes), so
each batch reads the partition from its start again: what is left is what is still to do, and a batch that died
half-way is simply done again (every step is idempotent).
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from retouch.data.clients import aws_client
from retouch.data.cursors import end_user_partition
from retouch.data.files import file_record
from retouch.data.items import is_condition_failure, record_attributes, to_item
from retouch.data.jobs import job_key, job_record
from retouch.models.erasures import ErasureRecord
from retouch.models.records import FileRecord, JobRecord

# What an erased job keeps: its tombstone, as DELETE /v1/jobs/{id} leaves it (data/jobs.py `tombstone`).
_ERASED_REMOVE = ("metadata", "inputs", "mask", "outputs", "result", "webhook", "error", "produced", "gsi2pk",
                  "gsi2sk")


def _key(erasure_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ERASURE#{erasure_id}"}, "sk": {"S": "ERASURE"}}


class ErasureRepository:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or aws_client("dynamodb")

    def create(self, record: ErasureRecord) -> None:
        data = record.model_dump(mode="json", exclude_none=True) | {"pk": f"ERASURE#{record.erasure_id}",
                                                                    "sk": "ERASURE"}
        self._client.put_item(TableName=self._table, Item=to_item(data),
                              ConditionExpression="attribute_not_exists(pk)")

    def get(self, erasure_id: str) -> ErasureRecord | None:
        item = self._client.get_item(TableName=self._table, Key=_key(erasure_id), ConsistentRead=True).get("Item")
        return ErasureRecord.model_validate(record_attributes(item)) if item else None

    def record_batch(self, erasure_id: str, *, jobs: int, files: int, objects: int, waiting: int,
                     completed_at: int | None) -> None:
        """Add one batch's counts; `completed_at` ends the erasure."""
        sets = "jobs_waiting = :waiting" + (", #status = :completed, completed_at = :at" if completed_at else "")
        values = {":jobs": {"N": str(jobs)}, ":files": {"N": str(files)}, ":objects": {"N": str(objects)},
                  ":one": {"N": "1"}, ":waiting": {"N": str(waiting)}}
        if completed_at:
            values |= {":completed": {"S": "completed"}, ":at": {"N": str(completed_at)}}
        self._client.update_item(
            TableName=self._table, Key=_key(erasure_id),
            UpdateExpression=(f"SET {sets} ADD jobs_erased :jobs, files_erased :files, objects_deleted :objects, "
                              "batches :one"),
            ConditionExpression="attribute_exists(pk)",
            **({"ExpressionAttributeNames": {"#status": "status"}} if completed_at else {}),
            ExpressionAttributeValues=values)


class EndUserItems:
    """The end user's jobs and files (gsi2), oldest first, and erasing a job's description from its item."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or aws_client("dynamodb")

    def first(self, account_id: str, end_user: str, limit: int) -> list[JobRecord | FileRecord]:
        response = self._client.query(
            TableName=self._table, IndexName="gsi2", Limit=limit,
            KeyConditionExpression="gsi2pk = :pk",
            ExpressionAttributeValues={":pk": {"S": end_user_partition(account_id, end_user)}})
        return [job_record(item) if item["pk"]["S"].startswith("JOB#") else file_record(item)
                for item in response.get("Items", [])]

    def erase_job(self, job_id: str, now: int) -> bool:
        """An ended job keeps only what billing needs (as a deleted job does) and leaves the end user's partition.
        False when it has not ended."""
        names = {"#status": "status", "#request": "request", **{f"#r{i}": n for i, n in enumerate(_ERASED_REMOVE)}}
        try:
            self._client.update_item(
                TableName=self._table, Key=job_key(job_id),
                UpdateExpression=("SET deleted_at = if_not_exists(deleted_at, :now), #request = :nothing REMOVE "
                                  + ", ".join(f"#r{i}" for i in range(len(_ERASED_REMOVE)))),
                ConditionExpression="#status IN (:succeeded, :failed, :canceled)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={":now": {"N": str(now)}, ":nothing": {"M": {}},
                                           ":succeeded": {"S": "succeeded"}, ":failed": {"S": "failed"},
                                           ":canceled": {"S": "canceled"}})
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True


class ErasureQueue:
    """Messages `{"erasure_id"}` for the eraser function, each one batch of an erasure."""

    def __init__(self, queue_url: str, client: Any | None = None) -> None:
        self._url = queue_url
        self._client = client or aws_client("sqs")

    def send(self, erasure_id: str, delay_seconds: int = 0) -> None:
        self._client.send_message(QueueUrl=self._url, MessageBody=json.dumps({"erasure_id": erasure_id}),
                                  DelaySeconds=delay_seconds)
