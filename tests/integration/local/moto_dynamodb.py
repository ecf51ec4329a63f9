"""A moto server of our own (with the local runtime's patches) and a DynamoDB client on it, for the tests of those
patches; and a pk/sk table on it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config

from local.aws.moto_server import MotoServer
from local.console import Console


@contextmanager
def moto_dynamodb(*, hold_seconds: float, max_attempts: int, connections: int) -> Iterator[Any]:
    """A DynamoDB client (the SDK's standard retry mode, as the functions use it) on a fresh patched moto server
    whose transactions hold their items `hold_seconds`."""
    server = MotoServer(Console(quiet=True), transaction_hold_seconds=hold_seconds)
    server.start()
    try:
        endpoint = server.wait_ready(30)
        yield boto3.session.Session().client(
            "dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
            aws_secret_access_key="testing", config=Config(retries={"mode": "standard", "max_attempts": max_attempts},
                                                           max_pool_connections=connections))
    finally:
        server.stop()


def pk_sk_table(dynamodb: Any) -> str:
    """A new on-demand table keyed pk (hash) / sk (range); its name."""
    name = f"t{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                {"AttributeName": "sk", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                     {"AttributeName": "sk", "KeyType": "RANGE"}])
    return name
