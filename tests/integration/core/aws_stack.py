"""The stack under test, in process: moto resources created from template.yaml's own properties, each
function's environment resolved from the template, and the real handlers loaded the way Lambda loads them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.cloudformation.intrinsics import REGION, Resolver, parameter_values
from local.cloudformation.resources import LocalResources, ResourceCreator
from local.cloudformation.template import FunctionSpec, Template
from local.stack import allowlist_with

REPO_ROOT = Path(__file__).resolve().parents[3]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
PROVIDER_SECRET_VALUE = "sk-test-provider-key"


@cache
def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


@dataclass
class LambdaContext:
    """What Powertools reads from Lambda's context object."""

    function_name: str
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = ""
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""
    remaining_millis: int = 300_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_millis


def create_resources(template: Template, parameters: dict[str, str]) -> LocalResources:
    creator = ResourceCreator(template, parameters, client, secret_value=PROVIDER_SECRET_VALUE)
    return creator.create_all()


def function_environments(template: Template, parameters: dict[str, str],
                          resources: LocalResources) -> dict[str, dict[str, str]]:
    resolver = Resolver(template, parameters, resources.physical)
    return {lid: resolver.function_environment(spec) for lid, spec in template.functions.items()}


def shared_environment(environments: dict[str, dict[str, str]]) -> dict[str, str]:
    """The variables on which every function that sets them agrees (the resources' names, read by tests' own
    adapters and settings); each handler is imported under its own environment (`Stack.handler`), so two functions
    may give one variable different values (the sync function waits longer than the api function, by default)."""
    values: dict[str, set[str]] = {}
    for env in environments.values():
        for name, value in env.items():
            values.setdefault(name, set()).add(value)
    return {name: next(iter(found)) for name, found in values.items() if len(found) == 1}


@contextmanager
def function_environment(environment: dict[str, str]) -> Iterator[None]:
    """The process environment as Lambda gives the function: its own variables, none of another function's."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [name for name in os.environ if name.startswith("RETOUCH_")]:
            patch.delenv(name)
        for name, value in environment.items():
            patch.setenv(name, value)
        yield


def load_handler(spec: FunctionSpec, environment: dict[str, str]) -> Any:
    """Import functions/<name>/app.py under a unique module name, its folder and layers on sys.path, in the
    function's own environment: its settings are read and its collaborators built at import, and kept."""
    module_name = f"retouch_function_{spec.logical_id}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    module_file, _, handler_name = spec.handler.rpartition(".")
    for folder in (*spec.layer_dirs, spec.code_dir):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    loader_spec = importlib.util.spec_from_file_location(module_name, spec.code_dir / f"{module_file}.py")
    assert loader_spec is not None and loader_spec.loader is not None
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[module_name] = module
    try:
        with function_environment(environment):
            loader_spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return getattr(module, handler_name)


@dataclass
class Stack:
    template: Template
    resources: LocalResources
    provider: Any  # local.stand_ins.FakeProvider
    environments: dict[str, dict[str, str]]  # function -> its environment, resolved from the template
    handlers: dict[str, Any] = field(default_factory=dict)

    # -- names ----------------------------------------------------------------------------------------

    @property
    def table(self) -> str:
        return self.resources.tables["Table"]

    @property
    def bucket(self) -> str:
        return self.resources.buckets["Bucket"]

    @property
    def jobs_queue(self) -> str:
        return self.resources.queues["JobsQueue"]

    @property
    def dead_letter_queue(self) -> str:
        return self.resources.queues["JobsDeadLetterQueue"]

    # -- invoking -----------------------------------------------------------------------------------------

    def handler(self, function_id: str) -> Any:
        if function_id not in self.handlers:
            self.handlers[function_id] = load_handler(self.template.functions[function_id],
                                                      self.environments[function_id])
        return self.handlers[function_id]

    @contextmanager
    def cold_started_with(self, function_id: str, variables: dict[str, str]) -> Iterator[Stack]:
        """The function started afresh with `variables` changed in its environment (its settings are read and its
        collaborators built at import), then afresh again with the template's."""
        original = self.environments[function_id]
        self.environments[function_id] = {**original, **variables}
        self._forget_handler(function_id)
        try:
            yield self
        finally:
            self.environments[function_id] = original
            self._forget_handler(function_id)

    def _forget_handler(self, function_id: str) -> None:
        self.handlers.pop(function_id, None)
        sys.modules.pop(f"retouch_function_{function_id}", None)

    def invoke(self, function_id: str, event: dict[str, Any], *, remaining_millis: int = 300_000) -> Any:
        spec = self.template.functions[function_id]
        context = LambdaContext(function_name=f"retouch-{function_id}", memory_limit_in_mb=spec.memory_size,
                                invoked_function_arn=f"arn:aws:lambda:{REGION}:123456789012:function:{function_id}",
                                remaining_millis=remaining_millis)
        return self.handler(function_id)(event, context)

    # -- reading state --------------------------------------------------------------------------------

    def seed_account(self, account_id: str, *, credit_micros: int = 100_000_000, status: str = "active") -> str:
        """An account as an operator creates it (admin tool), with credit so submissions are not refused 402."""
        from retouch.admin.accounts import create_account
        from retouch.billing.charges import add_credit
        from retouch.data.accounts import AccountRepository
        from retouch.data.ledger import LedgerRepository

        accounts = AccountRepository(self.table, client("dynamodb"))
        create_account(accounts, f"test {account_id}", account_id=account_id, max_in_flight=100,
                       requests_per_minute=1000)
        if credit_micros:
            add_credit(LedgerRepository(self.table, client("dynamodb")), account_id, credit_micros, "test credit")
        if status != "active":
            account = accounts.get_account(account_id)
            assert account is not None
            accounts.put_account(account.model_copy(update={"status": status}))
        return account_id

    def jobs_of(self, account_id: str) -> list[dict[str, Any]]:
        """Every page of the scan: a page stops at 1 MB of items read, so once the session's tests have written
        more than that, the first page alone can miss the account's jobs."""
        pages = client("dynamodb").get_paginator("scan").paginate(
            TableName=self.table, ConsistentRead=True,
            FilterExpression="account_id = :a AND begins_with(pk, :job)",
            ExpressionAttributeValues={":a": {"S": account_id}, ":job": {"S": "JOB#"}})
        return [item for page in pages for item in page["Items"]]

    def job_item(self, job_id: str) -> dict[str, Any] | None:
        from retouch.data.items import from_item

        item = client("dynamodb").get_item(TableName=self.table, Key={"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": "JOB"}},
                                           ConsistentRead=True).get("Item")
        return from_item(item) if item else None

    def keys_under(self, prefix: str) -> list[str]:
        response = client("s3").list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return sorted(o["Key"] for o in response.get("Contents", []))

    def object(self, key: str) -> tuple[bytes, str]:
        response = client("s3").get_object(Bucket=self.bucket, Key=key)
        return response["Body"].read(), response["ContentType"]

    def message_counts(self, queue_url: str) -> tuple[int, int]:
        attributes = client("sqs").get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def receive(self, queue_url: str, wait_seconds: int = 0) -> list[dict[str, Any]]:
        return client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                             WaitTimeSeconds=wait_seconds,
                                             AttributeNames=["ApproximateReceiveCount"]).get("Messages", [])

    def purge_queues(self) -> None:
        for url in self.resources.queues.values():
            client("sqs").purge_queue(QueueUrl=url)

    def delete_message(self, queue_url: str, receipt_handle: str) -> None:
        client("sqs").delete_message(QueueUrl=queue_url, ReceiptHandle=receipt_handle)

    def worker_event(self, message: dict[str, Any]) -> dict[str, Any]:
        """What the SQS event source mapping hands the worker for `message` (events/sqs_job.json's shape)."""
        from tests.builders import load_event

        event = load_event("sqs_job.json")
        record = event["Records"][0]
        record.update(messageId=message["MessageId"], receiptHandle=message["ReceiptHandle"], body=message["Body"],
                      eventSourceARN=self.resources.queue_arns["JobsQueue"])
        record["attributes"]["ApproximateReceiveCount"] = message["Attributes"]["ApproximateReceiveCount"]
        return event

    def worker_batch_event(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """What the event source hands the worker for a batch of `messages` (events/sqs_jobs_batch.json's shape)."""
        from tests.builders import load_event

        [template, *_] = load_event("sqs_jobs_batch.json")["Records"]
        records = []
        for message in messages:
            record = json.loads(json.dumps(template))
            record.update(messageId=message["MessageId"], receiptHandle=message["ReceiptHandle"],
                          body=message["Body"], eventSourceARN=self.resources.queue_arns["JobsQueue"])
            record["attributes"]["ApproximateReceiveCount"] = message["Attributes"]["ApproximateReceiveCount"]
            records.append(record)
        return {"Records": records}

    def run_worker_once(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Receive the next job message and hand it to the worker, deleting it on success as Lambda does."""
        [message] = self.receive(self.jobs_queue)
        response = self.invoke("WorkerFunction", self.worker_event(message))
        failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        if message["MessageId"] not in failed:
            self.delete_message(self.jobs_queue, message["ReceiptHandle"])
        return message, response


def template_parameters(template: Template, provider_base_url: str) -> dict[str, str]:
    # Retry base 0: a retried message becomes visible again at once, so a test can see its visibility change.
    # The stand-in serves plain http on loopback: the worker accepts that only from an allowlisted host (as locally).
    # No HTTP API runs in this tier: the mcp function's tests here make no call to it (McpApiBaseUrl, issue 22).
    return parameter_values(template, {"ProviderBaseUrl": provider_base_url, "ProviderRetryBaseSeconds": 0,
                                       "UrlAllowlist": allowlist_with("", [provider_base_url]),
                                       "McpApiBaseUrl": "http://127.0.0.1:9"})


def json_body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def forget_cached_wiring() -> None:
    """Settings, clients and handlers' collaborators are cached per process (as in Lambda): drop them all, and
    the loaded handler modules, so the next stack's environment is read afresh."""
    for name, module in list(sys.modules.items()):
        if name == "retouch" or name.startswith("retouch."):
            for value in list(vars(module).values()):
                if callable(getattr(value, "cache_clear", None)) and getattr(value, "__module__", None) == name:
                    value.cache_clear()
    for name in [n for n in sys.modules if n.startswith("retouch_function_")]:
        del sys.modules[name]


@contextmanager
def running_stack() -> Iterator[Stack]:
    """moto resources from template.yaml, every function's environment set, the stand-in provider on loopback."""
    from local.stand_ins import FakeProvider

    template = Template.load(TEMPLATE_PATH)
    provider = FakeProvider(host="127.0.0.1", port=0, delay=0, hang_seconds=5).start()
    with pytest.MonkeyPatch.context() as patch, mock_aws() as aws:
        if client("dynamodb").list_tables()["TableNames"]:
            aws.reset()  # moto nests mocks without resetting: start from empty resources explicitly
        # Each test starts with empty queues (moto otherwise allows one purge a minute, as SQS does).
        patch.setenv("MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR", "false")
        parameters = template_parameters(template, provider.base_url)
        resources = create_resources(template, parameters)
        environments = function_environments(template, parameters, resources)
        for name, value in shared_environment(environments).items():
            patch.setenv(name, value)
        patch.setenv("NO_PROXY", ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1"])))
        forget_cached_wiring()
        try:
            yield Stack(template=template, resources=resources, provider=provider, environments=environments)
        finally:
            forget_cached_wiring()
            provider.stop()
