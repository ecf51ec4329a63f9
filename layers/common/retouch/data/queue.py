"""The jobs queue: enqueue a job id; let the worker push a message's next delivery out (retry backoff)."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from retouch.data.clients import aws_client
from retouch.errors import QueueUnavailable

MAX_VISIBILITY_SECONDS = 43_200


class JobQueue:
    def __init__(self, queue_url: str, client: Any | None = None) -> None:
        self._url = queue_url
        self._client = client or aws_client("sqs")

    def send(self, job_id: str) -> None:
        try:
            self._client.send_message(QueueUrl=self._url, MessageBody=json.dumps({"job_id": job_id}))
        except (BotoCoreError, ClientError) as exc:
            raise QueueUnavailable("The job queue is unavailable; try again shortly.") from exc

    def delay_redelivery(self, receipt_handle: str, seconds: int) -> None:
        self._client.change_message_visibility(
            QueueUrl=self._url,
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=max(0, min(int(seconds), MAX_VISIBILITY_SECONDS)),
        )
