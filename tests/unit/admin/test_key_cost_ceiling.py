"""retouch-admin create-key --max-cost-per-call and set-key-limit: the operator sets, changes and clears a key's MCP
per-call ceiling (against an in-memory account repository)."""

from __future__ import annotations

from typing import Any

import pytest

from retouch.admin import cli
from retouch.admin.accounts import create_account
from tests.fakes import FakeAccountRepository


@pytest.fixture
def accounts(monkeypatch: pytest.MonkeyPatch) -> FakeAccountRepository:
    repository = FakeAccountRepository()
    monkeypatch.setattr(cli._Context, "repos", lambda self: (repository, repository, None))
    return repository


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = cli.main(["--table", "unused", *args])
    return code, capsys.readouterr().out


def only_key(accounts: FakeAccountRepository) -> Any:
    [key] = accounts.keys.values()
    return key


def test_a_key_is_created_with_a_ceiling_then_changed_and_cleared(accounts: FakeAccountRepository,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    # Given an account and a key the operator creates with a $0.50 ceiling
    account_id = create_account(accounts, "agents").account_id
    code, out = run(capsys, "create-key", account_id, "--max-cost-per-call", "0.50")
    assert code == 0 and "$0.500000" in out
    key = only_key(accounts)
    assert key.max_cost_per_call_micros == 500_000

    # When the operator raises it, then clears it
    code, out = run(capsys, "set-key-limit", account_id, key.key_id, "--max-cost-per-call", "1.25")
    raised = only_key(accounts).max_cost_per_call_micros
    listing = run(capsys, "list-keys", account_id)[1]
    assert run(capsys, "set-key-limit", account_id, key.key_id, "--max-cost-per-call", "none")[0] == 0

    # Then each change is stored on the key record, shown, and the last leaves no ceiling of the key's own
    assert code == 0 and raised == 1_250_000 and "$1.250000" in out and "$1.250000" in listing
    assert only_key(accounts).max_cost_per_call_micros is None


def test_a_key_without_the_option_has_no_ceiling_of_its_own(accounts: FakeAccountRepository,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    account_id = create_account(accounts, "agents").account_id
    assert run(capsys, "create-key", account_id)[0] == 0
    assert only_key(accounts).max_cost_per_call_micros is None


@pytest.mark.parametrize("amount", ["-1", "abc", "0.0000001"])
def test_a_ceiling_that_is_not_an_exact_non_negative_amount_is_refused(amount: str, accounts: FakeAccountRepository,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    account_id = create_account(accounts, "agents").account_id
    with pytest.raises(SystemExit):
        run(capsys, "create-key", account_id, "--max-cost-per-call", amount)
    assert accounts.keys == {}


def test_an_unknown_key_id_is_an_error_and_changes_nothing(accounts: FakeAccountRepository,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    account_id = create_account(accounts, "agents").account_id
    run(capsys, "create-key", account_id, "--max-cost-per-call", "0.50")
    with pytest.raises(SystemExit, match="has no key"):
        run(capsys, "set-key-limit", account_id, "key_missing", "--max-cost-per-call", "none")
    assert only_key(accounts).max_cost_per_call_micros == 500_000
