"""The authorizer function on events/authorizer_request.json, against accounts and key hashes in moto."""

from __future__ import annotations

import pytest

from retouch.admin.accounts import issue_key
from retouch.auth.keys import generate_api_key, hash_api_key
from retouch.data.accounts import AccountRepository
from tests.builders import authorizer_event, http_event, new_account_id
from tests.integration.core.aws_stack import Stack, client, json_body


def test_known_key_resolves_to_its_account(stack: Stack, account_id: str) -> None:
    # Given an active account with an issued key
    issued = issue_key(AccountRepository(stack.table, client("dynamodb")), account_id)

    # When a request presents it
    response = stack.invoke("AuthorizerFunction", authorizer_event(f"Bearer {issued.raw_key}"))

    # Then the request is authorized as that account and key
    assert response == {"isAuthorized": True, "context": {"account_id": account_id, "key_id": issued.key_id}}


@pytest.mark.parametrize("situation", ["no-header", "not-bearer", "unknown-key", "revoked-key", "suspended-account"])
def test_unusable_key_reaches_the_api_as_an_openai_401(situation: str, stack: Stack) -> None:
    # Given a key that cannot be used
    status = "suspended" if situation == "suspended-account" else "active"
    account_id = stack.seed_account(new_account_id(), status=status)
    accounts = AccountRepository(stack.table, client("dynamodb"))
    issued = issue_key(accounts, account_id)
    header: str | None = {"no-header": None, "not-bearer": f"Token {issued.raw_key}",
                          "unknown-key": f"Bearer {generate_api_key()}"}.get(situation, f"Bearer {issued.raw_key}")
    if situation == "revoked-key":
        accounts.revoke_key(accounts.find_key(hash_api_key(issued.raw_key)), revoked_at=1)

    # When the authorizer decides, and the API receives what it passed on
    decision = stack.invoke("AuthorizerFunction", authorizer_event(header))
    event = http_event("list_models.json", account_id=None)
    event["requestContext"]["authorizer"]["lambda"] = decision["context"]
    response = stack.invoke("ApiFunction", event)

    # Then the request passes the gateway with no account, and the API answers OpenAI's 401
    assert decision == {"isAuthorized": True, "context": {"account_id": ""}}
    assert response["statusCode"] == 401
    assert json_body(response)["error"]["code"] == "invalid_api_key"


def test_a_revoked_key_cannot_submit_while_the_authorizer_cache_still_passes_it(stack: Stack, account_id: str) -> None:
    # Given a key the authorizer resolved (API Gateway caches that answer for 30 s), then revoked by the operator
    from retouch.admin.accounts import revoke_key
    from tests.builders import generation_payload, json_event

    accounts = AccountRepository(stack.table, client("dynamodb"))
    issued = issue_key(accounts, account_id)
    cached = stack.invoke("AuthorizerFunction", authorizer_event(f"Bearer {issued.raw_key}"))["context"]
    revoke_key(accounts, account_id, issued.key_id)

    # When a billable job is submitted with the cached answer
    event = json_event("generation.json", generation_payload(), account_id=account_id)
    event["requestContext"]["authorizer"]["lambda"] = cached
    response = stack.invoke("ApiFunction", event)

    # Then it is refused at once: 401, no job, no hold on the account's credit
    assert response["statusCode"] == 401, response["body"]
    assert json_body(response)["error"]["code"] == "invalid_api_key"
    assert stack.jobs_of(account_id) == []
    # while a read-only route keeps the documented 30 s cache
    models = http_event("list_models.json", account_id=account_id)
    models["requestContext"]["authorizer"]["lambda"] = cached
    assert stack.invoke("ApiFunction", models)["statusCode"] == 200
