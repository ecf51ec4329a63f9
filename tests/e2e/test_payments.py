"""Getting paid, through the local stack and its Stripe stand-in: a customer tops up on the checkout page; Stripe's
events (signed by the stand-in, verified by Stripe's library in the payments function) credit the balance exactly
once though delivered twice and out of order; refunds take it back; a dispute of spent credit refuses new jobs;
forged and replayed signatures change nothing; and the books reconcile after all of it."""

from __future__ import annotations

import time
import uuid

import httpx
import openai
import pytest
import stripe

from local.stack import STAND_IN_STRIPE_KEY
from local.stand_ins.stripe_api import sign
from retouch.data.webhooks import WebhookSettingsRepository
from retouch.webhooks.account import ensure_secret, set_default_url
from tests.e2e.operator import admin
from tests.integration.webhooks.receiver import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.local_only]


def customer(stack, credit: str) -> tuple[str, httpx.Client]:
    account = admin(stack, "create-account", "--name", f"e2e-pay-{uuid.uuid4().hex[:6]}", "--credit", credit,
                    "--note", "e2e")
    key = admin(stack, "create-key", account["account_id"])["api_key"]
    return account["account_id"], httpx.Client(base_url=stack.base_url, timeout=60,
                                               headers={"Authorization": f"Bearer {key}"})


def balance(client: httpx.Client) -> int:
    return client.get("/v1/account").json()["balance_micros"]


def charged(client: httpx.Client) -> int:
    """What the account's jobs were charged in all (the pricing rule prices prompts and inputs too, so read it)."""
    return int(client.get("/v1/usage").json()["total_cost_micros"])


def pay(client: httpx.Client, amount_usd: str) -> dict:
    """Top up and press Pay on the stand-in's checkout page, holding its events back (the test delivers them)."""
    top_up = client.post("/v1/billing/top_ups", json={"amount_usd": amount_usd})
    assert top_up.status_code == 200, top_up.text
    page = httpx.get(top_up.json()["url"])
    assert page.status_code == 200 and "Pay" in page.text
    paid = httpx.post(top_up.json()["url"] + "/pay", params={"deliver": "none"},
                      headers={"Accept": "application/json"})
    assert paid.status_code == 200, paid.text
    return paid.json()


def stripe_dashboard(stack) -> stripe.StripeClient:
    """What an operator's refund in Stripe's dashboard does, through Stripe's own library against the stand-in."""
    return stripe.StripeClient(STAND_IN_STRIPE_KEY, base_addresses={"api": stack.stripe.origin})


def test_a_top_up_credits_exactly_once_out_of_order_and_twice_and_refunds_take_it_back(stack):
    # Given a customer with $1 who pays a $25 top-up on the checkout page
    account_id, client = customer(stack, "1")
    paid = pay(client, "25.00")
    events = {event["type"]: event["id"] for event in paid["events"]}
    assert set(events) == {"charge.succeeded", "payment_intent.succeeded", "checkout.session.completed"}
    assert balance(client) == 1_000_000  # nothing before Stripe's event

    # When the completion is delivered twice, before and after the receipt and the payment intent's own success
    order = ["checkout.session.completed", "checkout.session.completed", "charge.succeeded",
             "payment_intent.succeeded", "checkout.session.completed"]
    statuses = [stack.stripe.deliver(events[kind]) for kind in order]

    # Then each was accepted and the balance rose by exactly $25, once
    assert statuses == [200] * len(order)
    assert balance(client) == 26_000_000
    payments = client.get("/v1/billing/payments").json()["data"]
    assert [(p["id"], p["amount_micros"], p["status"]) for p in payments] == [
        (paid["payment_intent"], 25_000_000, "succeeded")]
    assert payments[0]["receipt_url"] and payments[0]["checkout_session_id"] == paid["session"]
    ledger = client.get("/v1/usage/ledger").json()["data"]
    assert [(e["kind"], e["amount_micros"], e["payment_id"]) for e in ledger if e["kind"] == "top_up"] == [
        ("top_up", 25_000_000, paid["payment_intent"])]

    # When the operator refunds $10, then the remaining $15, and the first refund's event comes again
    dashboard = stripe_dashboard(stack)
    dashboard.v1.refunds.create(params={"payment_intent": paid["payment_intent"], "amount": 1000})
    assert balance(client) == 16_000_000
    dashboard.v1.refunds.create(params={"payment_intent": paid["payment_intent"]})
    refunds = [e["id"] for e in httpx.get(f"{stack.stripe.origin}/_stand_in/events").json()["data"]
               if e["type"] == "charge.refunded"][-2:]
    assert stack.stripe.deliver(refunds[0]) == 200

    # Then all $25 went back, once: the customer has the $1 it started with
    assert balance(client) == 1_000_000
    assert client.get("/v1/billing/payments").json()["data"][0]["status"] == "refunded"
    admin(stack, "reconcile", "--account", account_id)  # exits non-zero on any difference


def test_forged_and_replayed_signatures_are_refused_400_and_change_nothing(stack):
    account_id, client = customer(stack, "1")
    paid = pay(client, "5.00")
    completion = next(e["id"] for e in paid["events"] if e["type"] == "checkout.session.completed")
    event_body = stack.stripe.event_body(completion)  # the exact bytes Stripe sends

    # When someone posts the completion signed with another secret, and when its real signature is replayed late
    forged = httpx.post(f"{stack.base_url}/v1/billing/stripe/webhook", content=event_body, headers={
        "Stripe-Signature": sign(event_body, "whsec_forged", int(time.time()))})
    replayed = stack.stripe.deliver(completion, signed_at=int(time.time()) - 600)
    unsigned = httpx.post(f"{stack.base_url}/v1/billing/stripe/webhook", content=event_body)

    # Then each is refused 400 and the balance did not move
    assert forged.status_code == 400 and forged.json()["error"]["code"] == "invalid_signature"
    assert (replayed, unsigned.status_code) == (400, 400)
    assert balance(client) == 1_000_000
    assert client.get("/v1/billing/payments").json()["data"] == []
    admin(stack, "reconcile", "--account", account_id)


def test_a_dispute_of_spent_credit_refuses_new_jobs_until_a_top_up(stack):
    # Given a customer who bought $5 and spent $4.99 of it (an operator's correction stands in for the jobs)
    account_id, client = customer(stack, "0")
    paid = pay(client, "5.00")
    for event in paid["events"]:
        assert stack.stripe.deliver(event["id"]) == 200
    admin(stack, "add-credit", account_id, "--note", "spent", "--", "-4.99")

    # When the card holder disputes the whole $5
    dispute = httpx.post(f"{stack.stripe.origin}/_stand_in/disputes",
                         data={"payment_intent": paid["payment_intent"]}).json()
    assert dispute["status"] == 200

    # Then the balance is owed ($-4.99) and a new job is refused with the arrears code
    assert balance(client) == -4_990_000
    sdk = openai.OpenAI(base_url=f"{stack.base_url}/v1", api_key=client.headers["Authorization"][7:],
                        max_retries=0)
    with pytest.raises(openai.APIStatusError) as refused:
        sdk.images.generate(model="gpt-image-2", prompt="in arrears", quality="low", size="1024x1024")
    assert (refused.value.status_code, refused.value.body["code"]) == (402, "account_in_arrears")
    # And the books still reconcile (a negative balance after a reversal is owed, not a difference)
    admin(stack, "reconcile", "--account", account_id)

    # When the customer tops up $10, the account works again
    for event in pay(client, "10.00")["events"]:
        stack.stripe.deliver(event["id"])
    assert balance(client) == 5_010_000
    result = sdk.images.generate(model="gpt-image-2", prompt="paid up", quality="low", size="1024x1024",
                                 extra_headers={"Prefer": "wait=20"})
    assert len(result.data) == 1
    admin(stack, "reconcile", "--account", account_id)


def wait_for(check, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.25)


def recharge_intents(stack, account_id: str) -> list[dict]:
    return [pi for pi in httpx.get(f"{stack.stripe.origin}/_stand_in/payment_intents").json()["data"]
            if pi["metadata"].get("retouch_purpose") == "auto_recharge"
            and pi["metadata"].get("retouch_account_id") == account_id]


def test_auto_recharge_fires_exactly_once_when_twenty_concurrent_settlements_cross_the_threshold(stack):
    # Given a customer who saved a card with a $5 top-up and set auto-recharge below $4.95 up to $10
    account_id, client = customer(stack, "0")
    admin(stack, "set-limits", account_id, "--max-in-flight", "25", "--rpm", "100")
    top_up = client.post("/v1/billing/top_ups", json={"amount_usd": "5.00", "save_card": True}).json()
    paid = httpx.post(top_up["url"] + "/pay", headers={"Accept": "application/json"}).json()
    assert wait_for(lambda: balance(client) == 5_000_000, 20)
    assert paid["payment_intent"]
    chosen = client.put("/v1/billing/auto_recharge", json={
        "enabled": True, "threshold_usd": "4.95", "recharge_to_usd": "10.00", "monthly_cap_usd": "50.00"})
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["card_saved"] is True

    # When 20 jobs of about $0.006 run at once: their settlements all leave the balance under $4.95
    def submit(index: int) -> str:
        response = client.post("/v1/images/generations", json={
            "model": "gpt-image-2", "prompt": f"recharge {index}", "quality": "low", "size": "1024x1024"},
            headers={"Prefer": "respond-async"})
        assert response.status_code == 202, response.text
        return response.json()["id"]

    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=20) as pool:
        job_ids = list(pool.map(submit, range(20)))
    assert wait_for(lambda: all(client.get(f"/v1/jobs/{job}").json()["status"] == "succeeded" for job in job_ids),
                    90)

    # Then exactly one off-session PaymentIntent was made, for what brought the balance back to $10 when it was
    # charged (later holds of this burst may have taken a few cents more), and it was credited exactly once
    total = charged(client)
    assert wait_for(lambda: balance(client) > 5_000_000 - total, 60)
    intents = recharge_intents(stack, account_id)
    assert len(intents) == 1
    recharged = intents[0]["amount"] * 10_000
    # (the balance it restored had the burst's holds out: each at most the quote of the longest prompt)
    hold = client.post("/v1/images/quote", json={"model": "gpt-image-2", "prompt": "recharge 19", "quality": "low",
                                                 "size": "1024x1024"}).json()["hold_micros"]
    # (and Stripe charges whole cents: the amount is rounded up to the next one)
    assert 5_000_000 < recharged <= 5_000_000 + 20 * hold + 10_000
    assert balance(client) == 5_000_000 - total + recharged
    settings = wait_for(lambda: (lambda s: s if s["pending_since"] is None else None)(
        client.get("/v1/billing/auto_recharge").json()), 10)
    assert settings and settings["enabled"] and settings["month_charged_usd"] * 1_000_000 == recharged
    purposes = sorted(p["purpose"] for p in client.get("/v1/billing/payments").json()["data"])
    assert purposes == ["auto_recharge", "top_up"]
    time.sleep(2)  # nothing else comes: the other 19 settlements found the crossing claimed
    assert len(recharge_intents(stack, account_id)) == 1
    admin(stack, "reconcile", "--account", account_id)


def account_webhook(stack, account_id: str) -> Receiver:
    """The account's default webhook URL, a receiver verifying with the secret it was given (the admin tool's
    `webhooks set-url`)."""
    repo = WebhookSettingsRepository(stack.resources.tables["Table"], stack.aws_client("dynamodb"))
    receiver = Receiver(secrets=[]).start()
    set_default_url(repo, account_id, receiver.url, allowlist=frozenset({receiver.url.split("/")[2]}))
    secret = ensure_secret(repo, account_id)
    assert secret is not None
    receiver.secrets.append(secret)
    return receiver


def account_events(receiver: Receiver, expected: int) -> list:
    """The account's events the receiver got (its jobs' events go to the same default URL), after a quiet spell."""
    def found() -> list:
        return [r for r in receiver.requests if r.payload and r.payload["type"].startswith("account.")]
    wait_for(lambda: len(found()) >= expected, 20)
    time.sleep(1.5)  # and no more come
    receiver.stop()
    return found()


def test_a_declined_recharge_disables_auto_recharge_and_sends_a_signed_recharge_failed(stack):
    account_id, client = customer(stack, "0")
    receiver = account_webhook(stack, account_id)
    top_up = client.post("/v1/billing/top_ups", json={"amount_usd": "5.00", "save_card": True}).json()
    httpx.post(top_up["url"] + "/pay", headers={"Accept": "application/json"})
    assert wait_for(lambda: balance(client) == 5_000_000, 20)
    card = next(pi["payment_method"] for pi in httpx.get(f"{stack.stripe.origin}/_stand_in/payment_intents").json()
                ["data"] if pi["metadata"].get("retouch_account_id") == account_id)
    httpx.post(f"{stack.stripe.origin}/_stand_in/cards/{card}/decline")
    client.put("/v1/billing/auto_recharge", json={
        "enabled": True, "threshold_usd": "5.00", "recharge_to_usd": "10.00", "monthly_cap_usd": "50.00"})

    sdk = openai.OpenAI(base_url=f"{stack.base_url}/v1", api_key=client.headers["Authorization"][7:],
                        max_retries=0)
    sdk.images.generate(model="gpt-image-2", prompt="declined", quality="low", size="1024x1024",
                        extra_headers={"Prefer": "wait=20"})

    settings = wait_for(lambda: (lambda s: s if not s["enabled"] else None)(
        client.get("/v1/billing/auto_recharge").json()), 30)
    assert settings and settings["disabled_reason"] == "payment_failed"
    assert balance(client) == 5_000_000 - charged(client)
    [event] = account_events(receiver, 1)
    assert event.verified_by == [0]  # signed with the account's secret, Standard Webhooks
    assert (event.payload["type"], event.payload["data"]["id"]) == ("account.recharge_failed", account_id)
    assert event.payload["data"]["reason"] == "payment_failed"
    admin(stack, "reconcile", "--account", account_id)


def test_the_balance_alert_is_a_signed_account_balance_low_once_per_dip(stack):
    account_id, client = customer(stack, "5")
    receiver = account_webhook(stack, account_id)
    assert client.put("/v1/billing/alerts", json={"balance_low_usd": "5.00"}).json()["balance_low_usd"] == 5.0
    sdk = openai.OpenAI(base_url=f"{stack.base_url}/v1", api_key=client.headers["Authorization"][7:],
                        max_retries=0)

    for index in range(2):  # two settlements under $5: one dip, one alert
        sdk.images.generate(model="gpt-image-2", prompt=f"low {index}", quality="low", size="1024x1024",
                            extra_headers={"Prefer": "wait=20"})

    [event] = account_events(receiver, 1)
    assert event.verified_by == [0] and event.payload["type"] == "account.balance_low"
    assert event.payload["data"]["balance_micros"] == 5_000_000 - charged(client) // 2  # the first of two alike
    assert client.get("/v1/billing/alerts").json()["alerted"] is True
