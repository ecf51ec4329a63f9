"""Billing integration fixtures: the real handlers and repositories against moto resources built from
template.yaml (the core tier's helpers), one stack per test module, unique accounts per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.builders import new_account_id
from tests.fakes import no_webhook
from tests.integration.core.aws_stack import Stack, client, running_stack


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


def submit_deps_on_moto(*, with_keys: bool = False) -> Any:
    """The api function's submit collaborators on the module's moto (atomic per request, as DynamoDB is: see
    local.aws.dynamodb_atomicity), with no backoff sleeps; `with_keys` adds the Idempotency-Key store."""
    from retouch.billing.charges import JobBilling
    from retouch.billing.prices import price_table
    from retouch.config import api_settings
    from retouch.data.files import FileRepository
    from retouch.data.idempotency import IdempotencyRepository
    from retouch.data.jobs import JobRepository
    from retouch.data.ledger import LedgerRepository
    from retouch.data.objects import ObjectStore
    from retouch.data.queue import JobQueue
    from retouch.jobs.submit import SubmitDeps
    from retouch.routing.document import load_routing
    from retouch.routing.support import UpstreamSupport

    settings, dynamodb = api_settings(), client("dynamodb")
    jobs = JobRepository(settings.table_name, dynamodb)
    return SubmitDeps(jobs=jobs, store=ObjectStore(settings.bucket_name), queue=JobQueue(settings.jobs_queue_url),
                      files=FileRepository(settings.table_name, dynamodb), webhook_for=no_webhook,
                      billing=JobBilling(ledger=LedgerRepository(settings.table_name, dynamodb), jobs=jobs,
                                         prices=price_table()),
                      upstream_support=UpstreamSupport(load_routing(settings.routing_document)),
                      keys=IdempotencyRepository(settings.table_name, dynamodb) if with_keys else None)
