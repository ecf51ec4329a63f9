"""Billing integration fixtures: the real handlers and repositories against moto resources built from
template.yaml (the core tier's helpers), one stack per test module, unique accounts per test."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from local.fake_provider import FakeProvider
from local.template import Template
from tests.integration.core.aws_stack import (
    TEMPLATE_PATH,
    Stack,
    client,
    create_resources,
    function_environments,
    merged_environment,
    template_parameters,
)
from tests.unit.core.builders import new_account_id


def _forget_cached_wiring() -> None:
    """Settings, clients and the handlers' cached collaborators are per process: start from this stack's."""
    from retouch import config
    from retouch.data import clients
    from retouch.web.routes import account, images, jobs

    for settings in (config.api_settings, config.status_settings, config.worker_settings,
                     config.authorizer_settings, config.dead_letter_settings):
        settings.cache_clear()
    clients.aws_client.cache_clear()
    for cached in (images._deps, images._deps_ledger, jobs._repositories, account._repositories):
        cached.cache_clear()
    for name in [n for n in sys.modules if n.startswith("retouch_function_")]:
        del sys.modules[name]


@pytest.fixture(scope="module")
def stack(_fake_aws_credentials: None) -> Iterator[Stack]:
    template = Template.load(TEMPLATE_PATH)
    provider = FakeProvider(host="127.0.0.1", port=0, delay=0, hang_seconds=5).start()
    with pytest.MonkeyPatch.context() as patch, mock_aws() as aws:
        if client("dynamodb").list_tables()["TableNames"]:
            # Another tier's stack (the core session's, when its tests ran first) is still open in this
            # process: moto nests mocks without resetting, so start from empty resources explicitly.
            aws.reset()
        patch.setenv("MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR", "false")
        parameters = template_parameters(template, provider.base_url)
        resources = create_resources(template, parameters)
        for name, value in merged_environment(function_environments(template, parameters, resources)).items():
            patch.setenv(name, value)
        patch.setenv("NO_PROXY", ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1"])))
        _forget_cached_wiring()
        try:
            yield Stack(template=template, resources=resources, provider=provider)
        finally:
            _forget_cached_wiring()
            provider.stop()


@pytest.fixture
def fresh(stack: Stack) -> Stack:
    """The module's stack with empty queues, so a test sees only its own messages."""
    stack.purge_queues()
    return stack


def seed(stack: Stack, *, credit_micros: int, max_in_flight: int = 100, rpm: int = 1000) -> str:
    """A new active account, created and credited the way the admin tool does it."""
    from retouch.admin.accounts import create_account
    from retouch.billing.charges import add_credit
    from retouch.data.accounts import AccountRepository
    from retouch.data.ledger import LedgerRepository

    account_id = new_account_id()
    create_account(AccountRepository(stack.table, client("dynamodb")), "test", account_id=account_id,
                   max_in_flight=max_in_flight, requests_per_minute=rpm)
    if credit_micros:
        add_credit(LedgerRepository(stack.table, client("dynamodb")), account_id, credit_micros, "test credit")
    return account_id


class SerializedClient:
    """A boto3 client whose calls run one at a time. Real DynamoDB applies each request atomically; moto does
    not (a transaction checks, then writes, and rolls back by restoring a copy of the whole table), so the
    race test serializes requests, never the code between them: the interleavings are those AWS allows."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not callable(attribute) or name in ("get_paginator",):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attribute(*args, **kwargs)

        return call
