"""Create the template's tables, queues, buckets and secrets on the AWS emulation.

Only the properties that change behaviour locally are applied (keys, indexes, TTL, visibility,
retention, redrive). Encryption, public-access blocks, lifecycle rules and policies are AWS-side
guarantees moto would only store, so they are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from local.cloudformation.intrinsics import ACCOUNT_ID, REGION, STACK_NAME, PhysicalResource, Resolver, to_string
from local.cloudformation.template import FUNCTION_TYPE, HTTP_API_TYPE, LAYER_TYPE, Template, TemplateError

TABLE_TYPE = "AWS::DynamoDB::Table"
QUEUE_TYPE = "AWS::SQS::Queue"
BUCKET_TYPE = "AWS::S3::Bucket"
SECRET_TYPE = "AWS::SecretsManager::Secret"  # noqa: S105 (a resource type name)
USER_POOL_TYPE = "AWS::Cognito::UserPool"
USER_POOL_CLIENT_TYPE = "AWS::Cognito::UserPoolClient"
USER_POOL_GROUP_TYPE = "AWS::Cognito::UserPoolGroup"

# User pool properties that change what sign-up and sign-in accept (CreateUserPool takes them under the same names).
_USER_POOL_PROPERTIES = ("Policies", "UsernameAttributes", "UsernameConfiguration", "AutoVerifiedAttributes", "Schema",
                         "VerificationMessageTemplate", "AccountRecoverySetting", "AdminCreateUserConfig")

LOCAL_API_ID = "local"

# Queue properties that map one-to-one onto SetQueueAttributes names.
_QUEUE_ATTRIBUTES = (
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "MaximumMessageSize",
    "ReceiveMessageWaitTimeSeconds",
    "FifoQueue",
    "ContentBasedDeduplication",
)


def physical_name(logical_id: str) -> str:
    """`JobsQueue` -> `retouch-local-jobsqueue`; lower case suits every service, S3 included."""
    return f"{STACK_NAME}-{logical_id.lower()}"


@dataclass
class LocalResources:
    """Physical ids by logical id; `physical` is what the intrinsics resolver reads."""

    physical: dict[str, PhysicalResource] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)  # logical id -> table name
    buckets: dict[str, str] = field(default_factory=dict)  # logical id -> bucket name
    queues: dict[str, str] = field(default_factory=dict)  # logical id -> queue URL
    queue_arns: dict[str, str] = field(default_factory=dict)  # logical id -> queue ARN
    secrets: dict[str, str] = field(default_factory=dict)  # logical id -> secret ARN
    user_pools: dict[str, str] = field(default_factory=dict)  # logical id -> user pool id

    def ref(self, logical_id: str) -> str:
        return self.physical[logical_id].ref


def virtual_resources(template: Template) -> dict[str, PhysicalResource]:
    """Refs for what runs locally without AWS resources (functions, the HTTP API, layers)."""
    found = {}
    for logical_id in template.resources_of_type(FUNCTION_TYPE):
        name = physical_name(logical_id)
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"
        found[logical_id] = PhysicalResource(ref=name, attributes={"Arn": arn})
    for logical_id in template.resources_of_type(HTTP_API_TYPE):
        found[logical_id] = PhysicalResource(ref=LOCAL_API_ID, attributes={"ApiEndpoint": ""})
    for logical_id in template.resources_of_type(LAYER_TYPE):
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:layer:{physical_name(logical_id)}:1"
        found[logical_id] = PhysicalResource(ref=arn)
    return found


class ResourceCreator:
    """Creates resources in dependency order, so a queue's RedrivePolicy can `!GetAtt` its DLQ."""

    def __init__(self, template: Template, parameters: dict[str, str], clients: Any, *, secret_value: str) -> None:
        """`clients(service)` returns a boto3 client for the emulation (injected: no env reads here)."""
        self._template = template
        self._clients = clients
        self._secret_value = secret_value
        self.resources = LocalResources(physical=virtual_resources(template))
        self._resolver = Resolver(template, parameters, self.resources.physical)

    def create_all(self) -> LocalResources:
        for logical_id, resource in self._template.resources_of_type(TABLE_TYPE).items():
            if self._exists(resource):
                self._create_table(logical_id, self._properties(resource))
        for logical_id, resource in self._template.resources_of_type(BUCKET_TYPE).items():
            if self._exists(resource):
                self._create_bucket(logical_id, self._properties(resource))
        for logical_id, resource in self._template.resources_of_type(SECRET_TYPE).items():
            if self._exists(resource):
                self._create_secret(logical_id, self._properties(resource))
        pool_parts = ((USER_POOL_TYPE, self._create_user_pool), (USER_POOL_CLIENT_TYPE, self._create_pool_client),
                      (USER_POOL_GROUP_TYPE, self._create_pool_group))  # pools first: the others name one
        for kind, create in pool_parts:
            for logical_id, resource in self._template.resources_of_type(kind).items():
                if self._exists(resource):
                    create(logical_id, self._properties(resource))
        for logical_id in _dependency_order(self._template.resources_of_type(QUEUE_TYPE)):
            resource = self._template.resources[logical_id]
            if self._exists(resource):
                self._create_queue(logical_id, self._properties(resource))
        return self.resources

    def _exists(self, resource: dict[str, Any]) -> bool:
        """Whether CloudFormation would create it: a resource whose `Condition` is false is not created (the sync
        entry's edge secret without SyncEdge)."""
        condition = resource.get("Condition")
        return condition is None or self._resolver.condition(condition)

    def _properties(self, resource: dict[str, Any]) -> dict[str, Any]:
        return self._resolver.resolve(resource.get("Properties") or {})

    def _create_table(self, logical_id: str, props: dict[str, Any]) -> None:
        dynamodb = self._clients("dynamodb")
        name = props.get("TableName") or physical_name(logical_id)
        billing = props.get("BillingMode", "PROVISIONED")
        throughput = props.get("ProvisionedThroughput") or {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": billing,
        }
        if billing == "PROVISIONED":
            request["ProvisionedThroughput"] = _numbers(throughput)
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if props.get(key):
                request[key] = [_index(index, billing, key == "GlobalSecondaryIndexes") for index in props[key]]
        if props.get("StreamSpecification"):
            request["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        description = dynamodb.create_table(**request)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and _truthy(ttl.get("Enabled")):
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
        attributes = {"Arn": description["TableArn"]}
        if description.get("LatestStreamArn"):
            attributes["StreamArn"] = description["LatestStreamArn"]
        self.resources.physical[logical_id] = PhysicalResource(ref=name, attributes=attributes)
        self.resources.tables[logical_id] = name

    def _create_bucket(self, logical_id: str, props: dict[str, Any]) -> None:
        name = props.get("BucketName") or physical_name(logical_id)
        self._clients("s3").create_bucket(Bucket=name)  # us-east-1 takes no LocationConstraint
        self.resources.physical[logical_id] = PhysicalResource(ref=name, attributes={
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{REGION}.amazonaws.com",
        })
        self.resources.buckets[logical_id] = name

    def _create_secret(self, logical_id: str, props: dict[str, Any]) -> None:
        name = props.get("Name") or physical_name(logical_id)
        # The template's placeholder value is replaced: locally the key comes from the developer or is a stand-in.
        arn = self._clients("secretsmanager").create_secret(Name=name, SecretString=self._secret_value)["ARN"]
        self.resources.physical[logical_id] = PhysicalResource(ref=arn, attributes={"Id": arn})
        self.resources.secrets[logical_id] = arn

    def _create_user_pool(self, logical_id: str, props: dict[str, Any]) -> None:
        request = {key: props[key] for key in _USER_POOL_PROPERTIES if key in props}
        pool = self._clients("cognito-idp").create_user_pool(
            PoolName=props.get("UserPoolName") or physical_name(logical_id), **request)["UserPool"]
        self.resources.physical[logical_id] = PhysicalResource(
            ref=pool["Id"], attributes={"Arn": pool["Arn"], "ProviderName": f"cognito-idp.{REGION}.amazonaws.com/"
                                                                           f"{pool['Id']}"})
        self.resources.user_pools[logical_id] = pool["Id"]

    def _create_pool_client(self, logical_id: str, props: dict[str, Any]) -> None:
        client = self._clients("cognito-idp").create_user_pool_client(
            UserPoolId=props["UserPoolId"], ClientName=props.get("ClientName") or physical_name(logical_id),
            GenerateSecret=_truthy(props.get("GenerateSecret")),
            ExplicitAuthFlows=props.get("ExplicitAuthFlows") or [])["UserPoolClient"]
        self.resources.physical[logical_id] = PhysicalResource(ref=client["ClientId"])

    def _create_pool_group(self, logical_id: str, props: dict[str, Any]) -> None:
        self._clients("cognito-idp").create_group(GroupName=props["GroupName"], UserPoolId=props["UserPoolId"],
                                                  Description=props.get("Description", ""))
        self.resources.physical[logical_id] = PhysicalResource(ref=props["GroupName"])

    def _create_queue(self, logical_id: str, props: dict[str, Any]) -> None:
        sqs = self._clients("sqs")
        name = props.get("QueueName") or physical_name(logical_id)
        if _truthy(props.get("FifoQueue")) and not name.endswith(".fifo"):
            name += ".fifo"
        attributes = {key: to_string(props[key]) for key in _QUEUE_ATTRIBUTES if key in props}
        if props.get("RedrivePolicy"):
            policy = props["RedrivePolicy"]
            attributes["RedrivePolicy"] = json.dumps({
                "deadLetterTargetArn": policy["deadLetterTargetArn"],
                "maxReceiveCount": int(policy["maxReceiveCount"]),
            })
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.resources.physical[logical_id] = PhysicalResource(
            ref=url, attributes={"Arn": arn, "QueueName": name, "QueueUrl": url}
        )
        self.resources.queues[logical_id] = url
        self.resources.queue_arns[logical_id] = arn


def _index(index: dict[str, Any], billing: str, is_global: bool) -> dict[str, Any]:
    shaped = {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
    if is_global and billing == "PROVISIONED":
        shaped["ProvisionedThroughput"] = _numbers(
            index.get("ProvisionedThroughput") or {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        )
    return shaped


def _numbers(throughput: dict[str, Any]) -> dict[str, int]:
    return {key: int(value) for key, value in throughput.items()}


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _references(value: Any) -> set[str]:
    """Logical ids a property value points at through Ref, GetAtt or Sub."""
    if isinstance(value, list):
        return set().union(*(_references(v) for v in value)) if value else set()
    if not isinstance(value, dict):
        return set()
    found: set[str] = set()
    for key, arg in value.items():
        if key == "Ref" and isinstance(arg, str):
            found.add(arg)
        elif key == "Fn::GetAtt":
            found.add(arg.split(".")[0] if isinstance(arg, str) else arg[0])
        else:
            found |= _references(arg)
    return found


def _dependency_order(resources: dict[str, dict[str, Any]]) -> Iterable[str]:
    """Queues whose properties reference no pending queue first (DLQs before their sources)."""
    pending = {lid: _references(r.get("Properties") or {}) & set(resources) for lid, r in resources.items()}
    ordered: list[str] = []
    while pending:
        ready = sorted(lid for lid, deps in pending.items() if not deps - set(ordered))
        if not ready:
            raise TemplateError(f"queues reference each other in a cycle: {sorted(pending)}")
        ordered.extend(ready)
        for lid in ready:
            del pending[lid]
    return ordered
