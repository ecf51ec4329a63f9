"""A job's partial images (jobs/partial_frames.py), one small item each in the job's own partition:

    JOB#<job_id> / PARTIAL#<index:03d>    index, key (the S3 object), output_format, at, expires_at (the job's TTL)

Beside the job item, not in it: a frame is written while the job runs, by the worker holding its claim, and a write
to the job item would race the claim's own conditional writes (and grow the item every reader pays for). One item
per index, written only if absent, so a redelivered job's frames are kept once. Read with one consistent Query.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from retouch.data.clients import aws_client
from retouch.data.items import is_condition_failure
from retouch.ports import PartialFrame

_PREFIX = "PARTIAL#"


def partial_key(job_id: str, index: int) -> dict[str, Any]:
    return {"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": f"{_PREFIX}{index:03d}"}}


class JobPartialsRepository:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or aws_client("dynamodb")

    def add(self, job_id: str, frame: PartialFrame, *, expires_at: int) -> bool:
        item = {**partial_key(job_id, frame.index), "index": {"N": str(frame.index)}, "key": {"S": frame.key},
                "output_format": {"S": frame.output_format}, "at": {"N": str(frame.at)},
                "expires_at": {"N": str(expires_at)}}
        try:
            self._client.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def frames(self, job_id: str) -> list[PartialFrame]:
        frames: list[PartialFrame] = []
        request: dict[str, Any] = {
            "TableName": self._table, "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": f"JOB#{job_id}"}, ":prefix": {"S": _PREFIX}},
        }
        while True:
            page = self._client.query(**request)
            frames.extend(PartialFrame(index=int(item["index"]["N"]), key=item["key"]["S"],
                                       output_format=item["output_format"]["S"], at=int(item["at"]["N"]))
                          for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return frames
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
