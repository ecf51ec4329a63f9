"""Billing integration fixtures: the real handlers and repositories against moto resources built from
template.yaml (the core tier's helpers), one stack per test module, unique accounts per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.core.aws_stack import Stack, client, running_stack
from tests.unit.core.builders import new_account_id


@pytest.fixture(scope="module")
def stack(_fake_aws_credentials: None) -> Iterator[Stack]:
    with running_stack() as running:
        yield running


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
