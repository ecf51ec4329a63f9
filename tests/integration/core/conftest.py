"""One in-process stack (moto + the local fake provider) for the tests in this folder; per test, empty queues
and unique ids. Package-scoped: torn down before other folders run, so its mock_aws, environment and cached
settings never leak into them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.builders import new_account_id
from tests.integration.core.aws_stack import Stack, running_stack


@pytest.fixture(scope="package")
def _session_stack(_fake_aws_credentials: None) -> Iterator[Stack]:
    with running_stack() as stack:
        yield stack


@pytest.fixture
def stack(_session_stack: Stack) -> Stack:
    """The session's stack with both queues emptied, so a test sees only its own messages."""
    _session_stack.purge_queues()
    return _session_stack


@pytest.fixture
def account_id(stack: Stack) -> str:
    """A fresh active account with credit, unique to the test."""
    return stack.seed_account(new_account_id())
