"""Integration tier for webhooks: moto resources built from template.yaml's own properties, with names unique
to each test (so they never meet another suite's session stack), and a verifying receiver on loopback."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.cloudformation.template import Template

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class WebhookResources:
    table: str
    bucket: str
    queue_url: str
    dead_letter_url: str
    dynamodb: Any
    sqs: Any
    s3: Any

    def receive(self, queue_url: str, *, wait: int = 0) -> list[dict[str, Any]]:
        return self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait,
                                        MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"]
                                        ).get("Messages", [])


def _table_request(template: Template, name: str) -> dict[str, Any]:
    props = template.resources["Table"]["Properties"]
    return {"TableName": name, "BillingMode": props["BillingMode"], "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "GlobalSecondaryIndexes": props["GlobalSecondaryIndexes"]}


def _queue_attributes(template: Template, logical_id: str) -> dict[str, str]:
    props = template.resources[logical_id]["Properties"]
    return {k: str(props[k]) for k in ("VisibilityTimeout", "MessageRetentionPeriod") if k in props}


@pytest.fixture
def aws(_fake_aws_credentials: None) -> Iterator[WebhookResources]:
    template = Template.load(ROOT / "template.yaml")
    suffix = uuid.uuid4().hex[:10]
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        s3 = boto3.client("s3", region_name="us-east-1")
        table = f"webhooks-{suffix}"
        dynamodb.create_table(**_table_request(template, table))
        bucket = f"webhooks-{suffix}"
        s3.create_bucket(Bucket=bucket)
        dead_letter_url = sqs.create_queue(
            QueueName=f"webhooks-dlq-{suffix}",
            Attributes=_queue_attributes(template, "WebhooksDeadLetterQueue"))["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dead_letter_url,
                                           AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = template.resources["WebhooksQueue"]["Properties"]["RedrivePolicy"]
        queue_url = sqs.create_queue(QueueName=f"webhooks-{suffix}", Attributes={
            **_queue_attributes(template, "WebhooksQueue"),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn,
                                         "maxReceiveCount": redrive["maxReceiveCount"]}),
        })["QueueUrl"]
        yield WebhookResources(table, bucket, queue_url, dead_letter_url, dynamodb, sqs, s3)
