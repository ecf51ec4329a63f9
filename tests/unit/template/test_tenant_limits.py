"""template.yaml's per-tenant limits (issue #24): the synchronous entry always has a reserved concurrency, one account
may hold only a few of its slots, and an account's URL-fetching jobs stay below the workers' concurrency."""

from __future__ import annotations

import pytest

from local.cloudformation.template import load_yaml
from tests.unit.template.test_template import TEMPLATE


@pytest.fixture(scope="module")
def template() -> dict:
    return load_yaml(TEMPLATE.read_text())


def test_the_sync_entry_refuses_zero_reserved_concurrency_and_always_reserves_it(template: dict) -> None:
    parameters = template["Parameters"]
    assert parameters["SyncReservedConcurrency"]["MinValue"] >= 1
    sync = template["Resources"]["SyncFunction"]["Properties"]
    assert sync["ReservedConcurrentExecutions"] == {"Ref": "SyncReservedConcurrency"}


def test_one_account_holds_well_below_the_sync_entrys_reserved_concurrency(template: dict) -> None:
    parameters = template["Parameters"]
    holds, reserved = parameters["SyncHoldsPerAccount"], parameters["SyncReservedConcurrency"]
    assert holds["MinValue"] >= 1 and int(holds["Default"]) * 2 <= int(reserved["Default"])
    environment = template["Resources"]["SyncFunction"]["Properties"]["Environment"]["Variables"]
    assert environment["RETOUCH_HOLDS_PER_ACCOUNT"] == {"Ref": "SyncHoldsPerAccount"}


def test_an_accounts_url_fetching_jobs_stay_below_the_workers_concurrency(template: dict) -> None:
    parameters = template["Parameters"]
    per_account, workers = parameters["UrlFetchJobsPerAccount"], parameters["WorkerMaxConcurrency"]
    assert int(per_account["Default"]) < int(workers["Default"]) and per_account["MinValue"] >= 1
    environment = template["Resources"]["WorkerFunction"]["Properties"]["Environment"]["Variables"]
    assert environment["RETOUCH_URL_FETCH_JOBS_PER_ACCOUNT"] == {"Ref": "UrlFetchJobsPerAccount"}
