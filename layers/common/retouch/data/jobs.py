"""Job items in DynamoDB. Every state change is a conditional write, so duplicates and races are harmless."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from retouch.data.clients import aws_client
from retouch.data.items import is_condition_failure, record_attributes, to_item, to_value
from retouch.models.records import JobError, JobRecord


def job_key(job_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": "JOB"}}



def job_item(record: JobRecord) -> dict[str, Any]:
    """The full item for a new job (also used inside transactions by the billing module)."""
    data = record.model_dump(mode="json", exclude_none=True)
    data.update(
        pk=f"JOB#{record.job_id}",
        sk="JOB",
        gsi1pk=f"ACCOUNT#{record.account_id}",
        gsi1sk=f"JOB#{record.created_at:012d}#{record.job_id}",
    )
    return to_item(data)


def job_record(item: dict[str, Any]) -> JobRecord:
    return JobRecord.model_validate(record_attributes(item))


class JobRepository:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or aws_client("dynamodb")

    def create(self, record: JobRecord) -> None:
        self._client.put_item(
            TableName=self._table,
            Item=job_item(record),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def get(self, job_id: str) -> JobRecord | None:
        response = self._client.get_item(TableName=self._table, Key=job_key(job_id), ConsistentRead=True)
        item = response.get("Item")
        return job_record(item) if item else None

    def claim(self, job_id: str, *, token: str, now: int, lease_until: int) -> JobRecord | None:
        """queued -> running, or take over a running job whose lease expired (its worker died)."""
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=job_key(job_id),
                UpdateExpression=(
                    "SET #status = :running, claim_token = :token, lease_until = :lease, "
                    "started_at = if_not_exists(started_at, :now), attempts = if_not_exists(attempts, :zero) + :one"
                ),
                ConditionExpression="#status = :queued OR (#status = :running AND lease_until < :now)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":running": {"S": "running"},
                    ":queued": {"S": "queued"},
                    ":token": {"S": token},
                    ":lease": {"N": str(lease_until)},
                    ":now": {"N": str(now)},
                    ":zero": {"N": "0"},
                    ":one": {"N": "1"},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return None
            raise
        return job_record(response["Attributes"])

    def finish_update(self, job_id: str, *, token: str, status: str, fields: dict[str, Any]) -> dict[str, Any]:
        """The conditional update that ends a claimed job; returned bare so billing can put it in a transaction."""
        names = {"#status": "status"}
        values: dict[str, Any] = {":status": to_value(status), ":running": {"S": "running"}, ":token": {"S": token}}
        assignments = ["#status = :status"]
        for index, (name, value) in enumerate(fields.items()):
            names[f"#f{index}"] = name
            values[f":v{index}"] = to_value(value)
            assignments.append(f"#f{index} = :v{index}")
        return {
            "TableName": self._table,
            "Key": job_key(job_id),
            "UpdateExpression": "SET " + ", ".join(assignments) + " REMOVE claim_token, lease_until",
            "ConditionExpression": "#status = :running AND claim_token = :token",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }

    def finish(self, job_id: str, *, token: str, status: str, fields: dict[str, Any]) -> bool:
        """running (claimed by `token`) -> `status`. False when another worker owns or ended the job."""
        try:
            self._client.update_item(**self.finish_update(job_id, token=token, status=status, fields=fields))
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def release_for_retry(self, job_id: str, *, token: str, error: JobError) -> bool:
        """running -> queued after a transient failure; the queue redelivers it after the backoff."""
        return self.finish(job_id, token=token, status="queued", fields={"error": error.model_dump()})

    def fail_unfinished_update(self, job_id: str, *, error: JobError, now: int) -> dict[str, Any]:
        """The conditional update behind `fail_unfinished`; returned bare so billing can put it in a transaction."""
        return {
            "TableName": self._table,
            "Key": job_key(job_id),
            "UpdateExpression": "SET #status = :failed, #error = :error, completed_at = :now REMOVE claim_token, lease_until",
            "ConditionExpression": "#status IN (:queued, :running)",
            "ExpressionAttributeNames": {"#status": "status", "#error": "error"},
            "ExpressionAttributeValues": {
                ":failed": {"S": "failed"},
                ":queued": {"S": "queued"},
                ":running": {"S": "running"},
                ":error": to_value(error.model_dump()),
                ":now": {"N": str(now)},
            },
        }

    def fail_unfinished(self, job_id: str, *, error: JobError, now: int) -> bool:
        """queued|running -> failed regardless of owner: for jobs whose messages are gone (DLQ, send failure)."""
        try:
            self._client.update_item(**self.fail_unfinished_update(job_id, error=error, now=now))
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True
