"""API keys and the authorizer's decision (auth/), against an in-memory account repository."""

from __future__ import annotations

import pytest

from retouch.admin.accounts import create_account, issue_key
from retouch.auth.authorize import Principal, authenticate, authorizer_response
from retouch.auth.keys import KEY_PREFIX, bearer_token, generate_api_key, hash_api_key, visible_prefix
from retouch.models.account_records import AccountRecord
from tests.builders import new_account_id
from tests.fakes import FakeAccountRepository


@pytest.mark.parametrize(("header", "token"), [
    pytest.param("Bearer rt_live_abc", "rt_live_abc", id="bearer"),
    pytest.param("bearer rt_live_abc", "rt_live_abc", id="lower-case-scheme"),
    pytest.param("BEARER   rt_live_abc  ", "rt_live_abc", id="extra-spaces"),
    pytest.param("  Bearer rt_live_abc", "rt_live_abc", id="leading-space"),
    pytest.param(None, None, id="absent"),
    pytest.param("", None, id="empty"),
    pytest.param("Bearer", None, id="scheme-only"),
    pytest.param("Bearer   ", None, id="scheme-and-spaces"),
    pytest.param("Basic dXNlcjpwYXNz", None, id="basic"),
    pytest.param("rt_live_abc", None, id="bare-key"),
])
def test_bearer_token(header: str | None, token: str | None) -> None:
    # Given an Authorization header
    # When the bearer token is read
    # Then only a Bearer scheme with a non-empty token yields one
    assert bearer_token(header) == token


def test_generated_keys_are_prefixed_unique_and_hashed() -> None:
    # Given two fresh keys
    first, second = generate_api_key(), generate_api_key()

    # Then they carry the prefix, differ, and are stored only as a hash with a short visible prefix
    assert first.startswith(KEY_PREFIX) and first != second
    assert hash_api_key(first) != first and len(hash_api_key(first)) == 64
    assert visible_prefix(first) == first[:12]


@pytest.fixture
def accounts() -> FakeAccountRepository:
    return FakeAccountRepository()


def test_known_key_of_active_account_is_authorized(accounts: FakeAccountRepository) -> None:
    # Given an active account with a key
    account = create_account(accounts, "acme", account_id=new_account_id())
    issued = issue_key(accounts, account.account_id)

    # When the key is presented
    principal = authenticate(f"Bearer {issued.raw_key}", accounts)

    # Then it resolves to the account and key, and the authorizer passes both on
    assert principal == Principal(account_id=account.account_id, key_id=issued.key_id)
    assert authorizer_response(principal) == {
        "isAuthorized": True, "context": {"account_id": account.account_id, "key_id": issued.key_id}}
    assert accounts.find_key(hash_api_key(issued.raw_key)).prefix == issued.raw_key[:12]


def test_a_keys_mcp_ceiling_is_carried_on_its_principal_and_a_change_is_read_at_once(
        accounts: FakeAccountRepository) -> None:
    # Given a key the operator gave a $0.50 MCP ceiling
    account = create_account(accounts, "acme", account_id=new_account_id())
    issued = issue_key(accounts, account.account_id, max_cost_per_call_micros=500_000)
    header = f"Bearer {issued.raw_key}"

    # When it is presented, then again after the operator clears the ceiling
    before = authenticate(header, accounts)
    accounts.set_key_cost_ceiling(accounts.find_key(hash_api_key(issued.raw_key)), None)
    after = authenticate(header, accounts)

    # Then the principal carries the key's ceiling as stored each time, and the authorizer's context passes it on (so
    # GET /v1/account shows it to the key) only while it is set
    assert before is not None and before.max_cost_per_call_micros == 500_000
    assert after is not None and after.max_cost_per_call_micros is None
    assert authorizer_response(before)["context"]["max_cost_per_call_micros"] == 500_000
    assert "max_cost_per_call_micros" not in authorizer_response(after)["context"]


@pytest.mark.parametrize("situation", ["no-header", "unknown-key", "revoked-key", "suspended-account",
                                       "account-deleted"])
def test_unusable_keys_pass_without_an_account(situation: str, accounts: FakeAccountRepository) -> None:
    # Given a key that cannot be used
    account_id = new_account_id()
    accounts.put_account(AccountRecord(account_id=account_id, name="acme", created_at=1))
    issued = issue_key(accounts, account_id)
    header: str | None = f"Bearer {issued.raw_key}"
    if situation == "no-header":
        header = None
    elif situation == "unknown-key":
        header = f"Bearer {generate_api_key()}"
    elif situation == "revoked-key":
        accounts.revoke_key(accounts.find_key(hash_api_key(issued.raw_key)), revoked_at=2)
    elif situation == "suspended-account":
        accounts.put_account(AccountRecord(account_id=account_id, name="acme", status="suspended", created_at=1))
    elif situation == "account-deleted":
        del accounts.accounts[account_id]

    # When it is presented
    principal = authenticate(header, accounts)

    # Then there is no principal, and the authorizer lets the request through with an empty account,
    # so the API itself answers an OpenAI-shaped 401 (API Gateway's own deny would be a bare 403)
    assert principal is None
    assert authorizer_response(principal) == {"isAuthorized": True, "context": {"account_id": ""}}
