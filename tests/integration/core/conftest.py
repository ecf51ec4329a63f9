"""One in-process stack (moto + the local fake provider) for the tests in this folder; per test, empty queues
and unique ids. Package-scoped: torn down before other folders run, so its mock_aws, environment and cached
settings never leak into them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from local.fake_provider import FakeProvider
from local.template import Template
from tests.integration.core.aws_stack import (
    TEMPLATE_PATH,
    Stack,
    create_resources,
    function_environments,
    merged_environment,
    template_parameters,
)
from tests.unit.core.builders import new_account_id


@pytest.fixture(scope="package")
def _session_stack(_fake_aws_credentials: None) -> Iterator[Stack]:
    from retouch import config
    from retouch.data import clients

    template = Template.load(TEMPLATE_PATH)
    provider = FakeProvider(host="127.0.0.1", port=0, delay=0, hang_seconds=5).start()
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        # Each test starts with empty queues (moto otherwise allows one purge a minute, as SQS does).
        patch.setenv("MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR", "false")
        parameters = template_parameters(template, provider.base_url)
        resources = create_resources(template, parameters)
        for name, value in merged_environment(function_environments(template, parameters, resources)).items():
            patch.setenv(name, value)
        patch.setenv("NO_PROXY", ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1"])))
        # Settings and clients are cached per process: start from the environment just set, and leave none behind.
        _clear_process_caches(config, clients)
        try:
            yield Stack(template=template, resources=resources, provider=provider)
        finally:
            provider.stop()
            _clear_process_caches(config, clients)


def _clear_process_caches(config: Any, clients: Any) -> None:
    for name in dir(config):
        factory = getattr(config, name)
        if name.endswith("_settings") and hasattr(factory, "cache_clear"):
            factory.cache_clear()
    clients.aws_client.cache_clear()


@pytest.fixture
def stack(_session_stack: Stack) -> Stack:
    """The session's stack with both queues emptied, so a test sees only its own messages."""
    _session_stack.purge_queues()
    return _session_stack


@pytest.fixture
def account_id(stack: Stack) -> str:
    """A fresh active account with credit, unique to the test."""
    return stack.seed_account(new_account_id())
