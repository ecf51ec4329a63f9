"""Webhook state in DynamoDB and SQS: account settings, the job item's `webhook` attribute, the webhooks queues.

The job's `webhook` map is only ever changed by conditional, append-style updates of its own paths,
so these writes never clash with the job's state changes (which set other attributes).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from retouch.data.clients import aws_client
from retouch.data.items import from_item, is_condition_failure, to_item, to_value
from retouch.data.jobs import job_key
from retouch.data.queue import SqsQueue
from retouch.models.webhooks import AccountWebhookSettings, DeliveryRecord, JobWebhook, WebhookMessage
from retouch.ports import SettingsConflict


def _settings_key(account_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ACCOUNT#{account_id}"}, "sk": {"S": "WEBHOOKS"}}


class WebhookSettingsRepository:
    """One item per account (pk ACCOUNT#id, sk WEBHOOKS): default URL and signing secrets, versioned."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or aws_client("dynamodb")

    def get(self, account_id: str) -> AccountWebhookSettings | None:
        response = self._client.get_item(TableName=self._table, Key=_settings_key(account_id), ConsistentRead=True)
        item = response.get("Item")
        if not item:
            return None
        data = from_item(item)
        data.pop("pk", None)
        data.pop("sk", None)
        return AccountWebhookSettings.model_validate(data)

    def put(self, settings: AccountWebhookSettings, *, expected_version: int | None) -> None:
        """Write `settings` (its version bumped by the caller) if the stored version is still `expected_version`."""
        item = to_item(settings.model_dump(mode="json") | {"pk": f"ACCOUNT#{settings.account_id}", "sk": "WEBHOOKS"})
        if expected_version is None:
            condition, values = "attribute_not_exists(pk)", {}
        else:
            condition, values = "version = :expected", {":expected": {"N": str(expected_version)}}
        try:
            self._client.put_item(TableName=self._table, Item=item, ConditionExpression=condition,
                                  **({"ExpressionAttributeValues": values} if values else {}))
        except ClientError as exc:
            if is_condition_failure(exc):
                raise SettingsConflict(settings.account_id) from exc
            raise


class JobWebhookLog:
    """The `webhook` map of job items: which events were queued and delivered, and the attempt log."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or aws_client("dynamodb")

    def get(self, job_id: str) -> JobWebhook | None:
        response = self._client.get_item(TableName=self._table, Key=job_key(job_id), ConsistentRead=True,
                                         ProjectionExpression="#w", ExpressionAttributeNames={"#w": "webhook"})
        webhook = from_item(response.get("Item") or {}).get("webhook")
        return JobWebhook.model_validate(webhook) if webhook else None

    def mark_emitted(self, job_id: str, event_type: str) -> bool:
        """Adds `event_type` to `webhook.emitted` unless it is there; False when it already was (or no webhook)."""
        return self._append_unique(job_id, "emitted", event_type)

    def mark_delivered(self, job_id: str, event_id: str) -> bool:
        return self._append_unique(job_id, "delivered", event_id)

    def _append_unique(self, job_id: str, field: str, value: str) -> bool:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=job_key(job_id),
                UpdateExpression="SET #w.#f = list_append(if_not_exists(#w.#f, :empty), :new)",
                ConditionExpression="attribute_exists(#w) AND NOT contains(#w.#f, :value)",
                ExpressionAttributeNames={"#w": "webhook", "#f": field},
                ExpressionAttributeValues={":empty": {"L": []}, ":new": {"L": [{"S": value}]}, ":value": {"S": value}},
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def record_delivery(self, job_id: str, delivery: DeliveryRecord, *, keep: int) -> None:
        """Appends one attempt to `webhook.deliveries`, then trims the oldest beyond `keep`."""
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=job_key(job_id),
                UpdateExpression="SET #w.#d = list_append(if_not_exists(#w.#d, :empty), :new)",
                ConditionExpression="attribute_exists(#w)",
                ExpressionAttributeNames={"#w": "webhook", "#d": "deliveries"},
                ExpressionAttributeValues={":empty": {"L": []},
                                           ":new": {"L": [to_value(delivery.model_dump(mode="json"))]}},
                ReturnValues="UPDATED_NEW",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return  # the job expired or never had a webhook: nothing to log against
            raise
        webhook = from_item(response.get("Attributes") or {}).get("webhook") or {}
        excess = len(webhook.get("deliveries") or []) - keep
        if excess > 0:
            self._trim(job_id, excess, keep)

    def _trim(self, job_id: str, excess: int, keep: int) -> None:
        paths = ", ".join(f"#w.#d[{i}]" for i in range(excess))
        try:
            self._client.update_item(
                TableName=self._table,
                Key=job_key(job_id),
                UpdateExpression=f"REMOVE {paths}",
                # Only if removing `excess` still leaves `keep`: two concurrent trims must not both remove theirs.
                ConditionExpression="size(#w.#d) >= :least",
                ExpressionAttributeNames={"#w": "webhook", "#d": "deliveries"},
                ExpressionAttributeValues={":least": {"N": str(keep + excess)}},
            )
        except ClientError as exc:
            if not is_condition_failure(exc):  # a concurrent trim got there first
                raise


class WebhookQueue(SqsQueue):
    """The webhooks queue (events to deliver) and its DLQ (events whose attempts ran out)."""

    def __init__(self, queue_url: str, dead_letter_url: str | None = None, client: Any | None = None) -> None:
        super().__init__(queue_url, client)
        self._dead_letter_url = dead_letter_url

    def send(self, message: WebhookMessage) -> None:
        self._send(message.model_dump_json(), what="webhooks queue")

    def dead_letter(self, message: WebhookMessage, reason: str) -> None:
        if self._dead_letter_url is None:
            raise RuntimeError("this queue was built without its dead-letter queue URL")
        self._client.send_message(
            QueueUrl=self._dead_letter_url,
            MessageBody=message.model_dump_json(),
            MessageAttributes={"reason": {"DataType": "String", "StringValue": reason[:256] or "failed"}},
        )
