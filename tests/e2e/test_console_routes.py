"""The console's own routes over real HTTP through the local stack: a person signed in to the console creates an API
key (shown once), uses it on /v1 like any key, revokes it and sees it refused; the seeded operator adjusts that
person's credit with a reason, once per Idempotency-Key, and the person's balance and ledger show it; a member is
refused the operator's routes."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.e2e.test_console_auth import COOKIE, console, sign_up_and_in

pytestmark = [pytest.mark.e2e, pytest.mark.local_only]


def test_a_key_made_in_the_console_works_on_the_api_until_revoked(stack) -> None:
    # Given a person signed in to the console
    person = sign_up_and_in(stack)

    # When they create a key
    created = person.client.post("/keys", json={"name": "e2e"})

    # Then its secret is shown once, the key list shows it without the secret, and /v1 takes it as their account's
    assert created.status_code == 201, created.text
    secret = created.json()["key"]
    listed = person.client.get("/keys").json()["data"]
    assert [key["id"] for key in listed] == [created.json()["id"]] and secret not in str(listed)
    with httpx.Client(base_url=stack.base_url, timeout=30, headers={"Authorization": f"Bearer {secret}"}) as api:
        assert api.get("/v1/account").json()["id"] == person.account_id

        # When they revoke it
        revoked = person.client.delete(f"/keys/{created.json()['id']}")

        # Then a submission with it is refused at once (reads within the authorizer's 30 s cache), and nothing is made
        assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
        refused = api.post("/v1/images/generations", json={"model": "gpt-image-2", "prompt": "a lighthouse"})
    assert refused.status_code == 401, refused.text
    assert person.client.get("/v1/jobs").json()["data"] == []


def test_the_operator_adjusts_a_customers_credit_once_per_idempotency_key(stack) -> None:
    # Given a customer signed in to the console, and the seeded operator signed in
    person = sign_up_and_in(stack)
    with console(stack) as anonymous:
        signed_in = anonymous.post("/auth/sign_in", json={"email": stack.console_operator.email,
                                                          "password": stack.console_operator.password})
    assert signed_in.status_code == 200, signed_in.text
    operator = console(stack, Cookie=f"{COOKIE}={signed_in.cookies[COOKIE]}",
                       **{"X-CSRF-Token": signed_in.json()["csrf_token"]})
    before = person.client.get("/v1/account").json()["balance_micros"]
    key = f"e2e-{uuid.uuid4().hex}"

    # When the operator credits $5 with a reason, and the same request is sent again
    adjustment = {"amount_usd": "5.00", "reason": "welcome credit"}
    first = operator.post(f"/operator/accounts/{person.account_id}/credit", json=adjustment,
                          headers={"Idempotency-Key": key})
    again = operator.post(f"/operator/accounts/{person.account_id}/credit", json=adjustment,
                          headers={"Idempotency-Key": key})

    # Then the balance rose once, and the customer's ledger shows one entry with the reason
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert again.headers["Idempotent-Replayed"] == "true" and first.json()["entry"] == again.json()["entry"]
    assert person.client.get("/v1/account").json()["balance_micros"] == before + 5_000_000
    notes = [entry["note"] for entry in person.client.get("/v1/usage/ledger").json()["data"]]
    assert notes.count("welcome credit") == 1

    # and the operator sees the account in the list; the customer is refused the operator's routes
    accounts = operator.get("/operator/accounts").json()["data"]
    assert person.account_id in {row["id"] for row in accounts}
    refused = person.client.post(f"/operator/accounts/{person.account_id}/credit", json=adjustment)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "operator_only"

    # and the upstream health page lists the routing's upstreams and links the stack's alarms by their names
    health = operator.get("/operator/upstreams")
    assert health.status_code == 200, health.text
    assert health.json()["upstreams"] and all(row["state"] in {"closed", "open", "half_open"}
                                              for row in health.json()["upstreams"])
    assert health.json()["alarms"] and all("-" in alarm["name"] and "#alarmsV2:alarm/" in alarm["url"]
                                           for alarm in health.json()["alarms"])
    operator.close()
    person.client.close()
