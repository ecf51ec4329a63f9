"""local.seed: the account and key `make run` starts with, created in a child process on the real template's table."""

from __future__ import annotations

import pytest

from local import REPO_ROOT
from local.cloudformation.intrinsics import parameter_values
from local.cloudformation.resources import ResourceCreator
from local.cloudformation.template import Template
from local.console import Console
from local.lambdas.environment import aws_environment, base_environment
from local.seed import LOCAL_ACCOUNT_ID, LOCAL_STARTING_CREDIT_USD, seed_account
from retouch.auth.keys import hash_api_key
from retouch.billing.money import MICROS_PER_USD
from retouch.data.accounts import AccountRepository
from retouch.data.ledger import LedgerRepository
from tests.integration.local.conftest import REAL_TEMPLATE


@pytest.fixture(scope="module")
def table(aws) -> str:
    template = Template.load(REAL_TEMPLATE)
    return ResourceCreator(template, parameter_values(template), aws, secret_value="x").create_all().tables["Table"]


def seed(table: str, moto_url: str, console: Console, api_key: str | None) -> tuple[str, str]:
    env = {**base_environment(), **aws_environment(moto_url), "PYTHONPATH": str(REPO_ROOT)}
    return seed_account(table, api_key, env=env, layer_dirs=[REPO_ROOT / "layers" / "common"], console=console,
                        timeout=30)


def test_seeding_twice_creates_the_account_once_and_reuses_a_fixed_key(table, moto_url, console, aws):
    # Given a fixed key, as RETOUCH_LOCAL_API_KEY gives it
    fixed_key = "sk-retouch-local-seed-test-0001"

    # When the stack seeds twice (two `make run`s on one emulation would)
    first = seed(table, moto_url, console, fixed_key)
    second = seed(table, moto_url, console, fixed_key)

    # Then both name the local account and the fixed key
    assert first == second == (LOCAL_ACCOUNT_ID, fixed_key)
    # And the key belongs to that account, which was credited once
    found = AccountRepository(table, aws("dynamodb")).find_key(hash_api_key(fixed_key))
    assert found is not None and found.account_id == LOCAL_ACCOUNT_ID
    account = LedgerRepository(table, aws("dynamodb")).get_account(LOCAL_ACCOUNT_ID)
    assert account is not None and account.balance_micros == LOCAL_STARTING_CREDIT_USD * MICROS_PER_USD


def test_without_a_fixed_key_a_new_key_is_issued_to_the_local_account(table, moto_url, console):
    # When the stack seeds with no key given
    account_id, api_key = seed(table, moto_url, console, None)

    # Then a fresh key of the local account comes back
    assert account_id == LOCAL_ACCOUNT_ID
    assert api_key and api_key != seed(table, moto_url, console, None)[1]
