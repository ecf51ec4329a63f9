"""Resources created on moto from the real template.yaml: what the functions will find there."""

from __future__ import annotations

import json

import pytest

from local.cloudformation.intrinsics import Resolver, parameter_values
from local.cloudformation.resources import LocalResources, ResourceCreator
from local.cloudformation.template import Template
from tests.integration.local.conftest import REAL_TEMPLATE


@pytest.fixture(scope="module")
def template() -> Template:
    return Template.load(REAL_TEMPLATE)


@pytest.fixture(scope="module")
def created(template, aws) -> LocalResources:
    return ResourceCreator(template, parameter_values(template), aws, secret_value="local-stand-in-key").create_all()


def test_every_emulated_resource_of_the_template_is_created(template, created):
    # ... but one whose Condition is false (the sync entry's edge secret without SyncEdge), as CloudFormation does
    def unconditional(resource_type: str) -> set[str]:
        return {lid for lid, resource in template.resources_of_type(resource_type).items()
                if "Condition" not in resource}

    assert set(created.tables) == unconditional("AWS::DynamoDB::Table")
    assert set(created.buckets) == unconditional("AWS::S3::Bucket")
    assert set(created.queues) == unconditional("AWS::SQS::Queue")
    assert set(created.secrets) == unconditional("AWS::SecretsManager::Secret")
    assert "SyncEdgeOriginSecret" not in created.secrets
    assert created.tables["Table"] == "retouch-local-table"
    assert created.buckets["Bucket"] == "retouch-local-bucket"
    assert {"JobsQueue", "JobsDeadLetterQueue"} <= set(created.queues)


def test_the_table_has_the_templates_keys_index_billing_and_ttl(created, aws):
    dynamodb = aws("dynamodb")
    table = dynamodb.describe_table(TableName="retouch-local-table")["Table"]
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"},
                                  {"AttributeName": "sk", "KeyType": "RANGE"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    by_account, sweep, by_end_user = table["GlobalSecondaryIndexes"]
    assert by_account["IndexName"] == "gsi1"
    assert by_account["KeySchema"] == [{"AttributeName": "gsi1pk", "KeyType": "HASH"},
                                       {"AttributeName": "gsi1sk", "KeyType": "RANGE"}]
    assert by_account["Projection"] == {"ProjectionType": "ALL"}
    assert sweep["IndexName"] == "sweep"
    assert sweep["KeySchema"] == [{"AttributeName": "sweep_pk", "KeyType": "HASH"},
                                  {"AttributeName": "watch_at", "KeyType": "RANGE"}]
    assert (by_end_user["IndexName"], by_end_user["Projection"]) == ("gsi2", {"ProjectionType": "ALL"})
    assert by_end_user["KeySchema"] == [{"AttributeName": "gsi2pk", "KeyType": "HASH"},
                                        {"AttributeName": "gsi2sk", "KeyType": "RANGE"}]
    ttl = dynamodb.describe_time_to_live(TableName="retouch-local-table")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_the_jobs_queue_has_its_timeouts_and_redrives_to_the_dead_letter_queue(created, aws):
    sqs = aws("sqs")
    jobs = sqs.get_queue_attributes(QueueUrl=created.queues["JobsQueue"], AttributeNames=["All"])["Attributes"]
    dlq = sqs.get_queue_attributes(QueueUrl=created.queues["JobsDeadLetterQueue"], AttributeNames=["All"])["Attributes"]
    assert (jobs["VisibilityTimeout"], jobs["MessageRetentionPeriod"]) == ("5420", "345600")
    assert json.loads(jobs["RedrivePolicy"]) == {"deadLetterTargetArn": dlq["QueueArn"], "maxReceiveCount": 10}
    assert (dlq["VisibilityTimeout"], dlq["MessageRetentionPeriod"]) == ("180", "1209600")
    assert created.queue_arns["JobsDeadLetterQueue"] == dlq["QueueArn"]


def test_the_bucket_exists_and_the_secret_holds_the_local_key(created, aws):
    aws("s3").head_bucket(Bucket="retouch-local-bucket")
    secret = aws("secretsmanager").get_secret_value(SecretId=created.secrets["ProviderApiKeySecret"])
    assert secret["SecretString"] == "local-stand-in-key"


def test_function_environments_point_at_the_created_resources(template, created):
    resolver = Resolver(template, parameter_values(template), created.physical)
    worker = resolver.function_environment(template.functions["WorkerFunction"])
    assert worker["RETOUCH_TABLE_NAME"] == "retouch-local-table"
    assert worker["RETOUCH_JOBS_QUEUE_URL"] == created.queues["JobsQueue"]
    assert worker["RETOUCH_PROVIDER_SECRET_ARN"] == created.secrets["ProviderApiKeySecret"]
