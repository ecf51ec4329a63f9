"""SQS queues: send a message (a 503 when SQS is unreachable) and push a received message's next delivery out."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from retouch.data.clients import aws_client
from retouch.errors import QueueUnavailable

# SQS DelaySeconds stops at 15 min; a received message's visibility can be pushed out to 12 h.
MAX_VISIBILITY_SECONDS = 43_200
MAX_DELAY_SECONDS = 900


class SqsQueue:
    def __init__(self, queue_url: str, client: Any | None = None) -> None:
        self._url = queue_url
        self._client = client or aws_client("sqs")

    def _send(self, body: str, *, queue_url: str | None = None, what: str = "queue", tenant: str | None = None,
              delay_seconds: int = 0) -> None:
        # A MessageGroupId on a standard queue makes it a fair queue: a tenant with many messages in flight does not
        # delay the others' (docs/architecture.md, fair share of the workers).
        grouped = {"MessageGroupId": tenant} if tenant else {}
        delayed = {"DelaySeconds": max(0, min(int(delay_seconds), MAX_DELAY_SECONDS))} if delay_seconds else {}
        try:
            self._client.send_message(QueueUrl=queue_url or self._url, MessageBody=body, **grouped, **delayed)
        except (BotoCoreError, ClientError) as exc:
            raise QueueUnavailable(f"The {what} is unavailable; try again shortly.") from exc

    def delay_redelivery(self, receipt_handle: str, seconds: int) -> None:
        """The received message becomes visible again after `seconds` (the retry backoff)."""
        self._client.change_message_visibility(
            QueueUrl=self._url,
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=max(0, min(int(seconds), MAX_VISIBILITY_SECONDS)),
        )


class JobQueue(SqsQueue):
    """The jobs queue: one `{job_id}` message per job, grouped by its account (SQS fair queues)."""

    def send(self, job_id: str, *, tenant: str | None = None, delay_seconds: int = 0,
             fetches_urls: bool | None = None) -> None:
        body: dict[str, Any] = {"job_id": job_id}
        if fetches_urls is not None:
            body["fetches_urls"] = fetches_urls
        self._send(json.dumps(body), what="job queue", tenant=tenant, delay_seconds=delay_seconds)

    def send_hold_check(self, job_id: str, *, account_id: str, micros: int, delay_seconds: int) -> None:
        """The delayed message that checks whether a discarded job's hold landed after all (jobs/late_holds.py)."""
        body = {"job_id": job_id, "late_hold": {"account_id": account_id, "micros": micros}}
        self._send(json.dumps(body), what="job queue", delay_seconds=delay_seconds)

    def send_poll(self, job_id: str, seq: int, delay_seconds: int) -> None:
        """The delayed message that polls the job's pending upstream call `seq` (a new message, so the polls of a
        slow upstream do not spend the original message's receives towards the dead-letter queue)."""
        self._client.send_message(QueueUrl=self._url, MessageBody=json.dumps({"job_id": job_id, "poll_seq": seq}),
                                  DelaySeconds=max(0, min(int(delay_seconds), MAX_DELAY_SECONDS)))
