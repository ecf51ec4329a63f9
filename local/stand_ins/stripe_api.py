"""A stand-in for the Stripe API calls Retouch makes, so `make run` needs no Stripe account: Checkout Sessions
(created by Retouch through Stripe's own library, pointed here with `api_base`), a page that completes a checkout,
refunds and disputes, and the events they cause, POSTed to Retouch's webhook route signed with Stripe's scheme
(`Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`), so the real library verifies them.

    POST /v1/checkout/sessions            Stripe's wire format (form-encoded, Bearer key): a session and its page URL
    GET  /v1/checkout/sessions/<id>       the session
    POST /v1/refunds                      payment_intent, amount (optional: the rest): a refund -> charge.refunded
    POST /v1/payment_intents              an off-session charge of a saved card (confirm=true), once per
                                          Idempotency-Key -> charge.succeeded, payment_intent.succeeded (or a 402
                                          card_error and payment_intent.payment_failed for a declining card)
    GET  /checkout/<id>                   the page a customer pays on (an HTML form)
    POST /checkout/<id>/pay               pays: charge.succeeded, payment_intent.succeeded, checkout.session.completed,
                                          delivered now unless `deliver=none` (tests then deliver them one by one)
    GET  /_stand_in/events                every event sent, oldest first (id, type, status of its last delivery)
    POST /_stand_in/events/<id>/deliver   deliver it again (signed now, or `?signed_at=<unix>` to sign as of then)
    POST /_stand_in/disputes              payment_intent: a dispute of its charge -> charge.dispute.created
    GET  /_stand_in/payment_intents       every PaymentIntent made, oldest first
    POST /_stand_in/cards/<pm>/decline    that saved card declines from now on

Only what Retouch reads is modelled; ids look like Stripe's (cs_test_…, pi_…, ch_…, re_…, dp_…, evt_…).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from werkzeug.wrappers import Request, Response

from local.stand_ins.stand_in import StandIn

WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
DELIVERY_TIMEOUT_SECONDS = 35  # Retouch's webhook route answers within API Gateway's 30 s
MAX_EVENTS = 1000  # a long `make run` stays bounded


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """Stripe's webhook signature header for `payload` at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def nested_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (`a[b][0][c]=v`) as nested dicts (list indexes stay dict keys "0", "1", …)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


@dataclass
class _Event:
    id: str
    type: str
    body: bytes
    deliveries: list[int] = field(default_factory=list)  # the webhook's status codes


class StripeStandIn(StandIn):
    upstream = "stripe"

    def __init__(self, *, api_key: str, webhook_secret: str | None = None, **kwargs: Any) -> None:
        super().__init__(api_key=api_key, **kwargs)
        self.webhook_secret = webhook_secret or WEBHOOK_SECRET_PREFIX + secrets.token_hex(16)
        self.webhook_url: str | None = None  # set once Retouch's API listens
        self._state = threading.Lock()
        self._sessions: dict[str, dict[str, Any]] = {}
        self._intents: dict[str, dict[str, Any]] = {}
        self._charges: dict[str, dict[str, Any]] = {}  # by payment intent
        self._events: dict[str, _Event] = {}
        self._idempotent: dict[str, tuple[int, dict[str, Any]]] = {}  # Idempotency-Key -> the first answer
        self._declining: set[str] = set()

    # ---- the API Retouch calls ----------------------------------------------------------------------------

    def respond(self, request: Request) -> Response:
        path = request.path
        if path.startswith("/checkout/"):
            return self._checkout_page(request)
        if path.startswith("/_stand_in/"):
            return self._control(request)
        if not self.key_accepted(self.authorization_key(request)):
            return self._error(401, "invalid_request_error", "Invalid API Key provided.")
        params = nested_form(list(request.form.items(multi=True)))
        if request.method == "POST" and path == "/v1/checkout/sessions":
            return self._json(self._create_session(params))
        match = re.fullmatch(r"/v1/checkout/sessions/([\w-]+)", path)
        if request.method == "GET" and match:
            with self._state:
                found = self._sessions.get(match.group(1))
            return self._json(found) if found else self._error(404, "invalid_request_error", "No such session")
        if request.method == "POST" and path == "/v1/refunds":
            return self._refund(params)
        if request.method == "POST" and path == "/v1/payment_intents":
            return self._off_session(params, request.headers.get("Idempotency-Key"))
        return self._error(404, "invalid_request_error", f"Unrecognized request URL ({request.method}: {path}).")

    def _create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        item = params["line_items"]["0"]
        price = item["price_data"]
        amount = int(price["unit_amount"]) * int(item.get("quantity", 1))
        session_id = _id("cs_test")
        session = {
            "id": session_id, "object": "checkout.session", "mode": params.get("mode", "payment"),
            "status": "open", "payment_status": "unpaid", "amount_total": amount,
            "currency": price["currency"], "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata", {}), "payment_intent": None, "livemode": False,
            "url": f"{self.origin}/checkout/{session_id}", "expires_at": int(time.time()) + 24 * 3600,
            "success_url": params.get("success_url"), "cancel_url": params.get("cancel_url"),
            "_intent_metadata": (params.get("payment_intent_data") or {}).get("metadata", {}),
            "_setup_future_usage": (params.get("payment_intent_data") or {}).get("setup_future_usage"),
            "customer": None,
        }
        with self._state:
            self._sessions[session_id] = session
        return self._public(session)

    def _refund(self, params: dict[str, Any]) -> Response:
        with self._state:
            charge = self._charges.get(params.get("payment_intent", ""))
            if charge is None:
                return self._error(404, "invalid_request_error", "No such payment_intent")
            left = charge["amount"] - charge["amount_refunded"]
            amount = int(params.get("amount", left))
            if not 0 < amount <= left:
                return self._error(400, "invalid_request_error", "Refund amount is greater than unrefunded amount")
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] == charge["amount"]
            refund = {"id": _id("re"), "object": "refund", "amount": amount, "charge": charge["id"],
                      "payment_intent": charge["payment_intent"], "status": "succeeded"}
            snapshot = dict(charge)
        self._send(self._event("charge.refunded", snapshot))
        return self._json(refund)

    def _off_session(self, params: dict[str, Any], key: str | None) -> Response:
        with self._state:
            if key and key in self._idempotent:
                status, body = self._idempotent[key]
                return self._json(body, status)
            method = params.get("payment_method", "")
            intent_id, charge_id = _id("pi"), _id("ch")
            amount, currency = int(params["amount"]), params["currency"]
            declined = method in self._declining or not method.startswith("pm_")
            intent = {"id": intent_id, "object": "payment_intent", "amount": amount, "currency": currency,
                      "amount_received": 0 if declined else amount, "customer": params.get("customer"),
                      "payment_method": method, "metadata": params.get("metadata", {}),
                      "status": "requires_payment_method" if declined else "succeeded",
                      "latest_charge": charge_id}
            self._intents[intent_id] = intent
            if declined:
                intent["last_payment_error"] = {"type": "card_error", "code": "card_declined",
                                                "message": "Your card was declined."}
                status, body = 402, {"error": {"type": "card_error", "code": "card_declined",
                                               "message": "Your card was declined.", "payment_intent": intent}}
            else:
                charge = {"id": charge_id, "object": "charge", "amount": amount, "amount_refunded": 0,
                          "currency": currency, "payment_intent": intent_id, "paid": True, "refunded": False,
                          "receipt_url": f"{self.origin}/receipts/{charge_id}", "metadata": {}}
                self._charges[intent_id] = charge
                status, body = 200, intent
            if key:
                self._idempotent[key] = (status, body)
        events = ([self._event("payment_intent.payment_failed", intent)] if declined else
                  [self._event("charge.succeeded", charge), self._event("payment_intent.succeeded", intent)])
        # Stripe sends events on its own schedule, after answering: so does the stand-in.
        threading.Thread(target=lambda: [self._send(e) for e in events], daemon=True).start()
        return self._json(body, status)

    # ---- the checkout page ----------------------------------------------------------------------------------

    def _checkout_page(self, request: Request) -> Response:
        match = re.fullmatch(r"/checkout/([\w-]+)(/pay)?", request.path)
        with self._state:
            session = self._sessions.get(match.group(1)) if match else None
        if session is None or match is None:
            return Response("No such checkout", status=404, mimetype="text/plain")
        if request.method == "GET" and not match.group(2):
            return Response(_PAGE.format(amount=f"{session['amount_total'] / 100:.2f}",
                                         currency=html.escape(session["currency"].upper()),
                                         action=html.escape(f"/checkout/{session['id']}/pay")),
                            mimetype="text/html")
        if request.method != "POST" or not match.group(2):
            return Response("Method Not Allowed", status=405, mimetype="text/plain")
        events = self._pay(session["id"])
        if events is None:
            return Response("This checkout is already complete", status=409, mimetype="text/plain")
        if request.args.get("deliver") != "none":
            for event in events:
                self._send(event)
        if "application/json" in request.headers.get("Accept", ""):
            return self._json({"session": session["id"], "payment_intent": session["payment_intent"],
                               "events": [{"id": e.id, "type": e.type} for e in events]})
        back = html.escape(session.get("success_url") or "/")
        return Response(f"<p>Paid. <a href=\"{back}\">Back to the merchant</a></p>", mimetype="text/html")

    def _pay(self, session_id: str) -> list[_Event] | None:
        with self._state:
            session = self._sessions[session_id]
            if session["status"] != "open":
                return None
            intent_id, charge_id = _id("pi"), _id("ch")
            session.update(status="complete", payment_status="paid", payment_intent=intent_id)
            amount, currency = session["amount_total"], session["currency"]
            intent = {"id": intent_id, "object": "payment_intent", "amount": amount, "amount_received": amount,
                      "currency": currency, "status": "succeeded", "latest_charge": charge_id,
                      "metadata": session["_intent_metadata"], "customer": None, "payment_method": _id("pm")}
            if session["_setup_future_usage"]:  # the card is kept on a customer for off-session payments
                intent["customer"] = session["customer"] = _id("cus")
            charge = {"id": charge_id, "object": "charge", "amount": amount, "amount_refunded": 0,
                      "currency": currency, "payment_intent": intent_id, "paid": True, "refunded": False,
                      "receipt_url": f"{self.origin}/receipts/{charge_id}", "metadata": {}}
            self._intents[intent_id] = intent
            self._charges[intent_id] = charge
            completed = self._public(session)
        return [self._event("charge.succeeded", charge), self._event("payment_intent.succeeded", intent),
                self._event("checkout.session.completed", completed)]

    # ---- events ---------------------------------------------------------------------------------------------

    def _event(self, kind: str, obj: dict[str, Any]) -> _Event:
        event_id = _id("evt")
        body = json.dumps({"id": event_id, "object": "event", "type": kind, "created": int(time.time()),
                           "livemode": False, "api_version": "2025-01-27", "pending_webhooks": 1,
                           "data": {"object": obj}}).encode()
        event = _Event(id=event_id, type=kind, body=body)
        with self._state:
            self._events[event_id] = event
            while len(self._events) > MAX_EVENTS:
                self._events.pop(next(iter(self._events)))
        return event

    def event_body(self, event_id: str) -> bytes:
        """The exact bytes the event is sent with (what a forger or a replayer would have)."""
        with self._state:
            return self._events[event_id].body

    def deliver(self, event_id: str, *, signed_at: int | None = None) -> int:
        """POST the event to Retouch's webhook, signed as of `signed_at` (now); the webhook's status code."""
        with self._state:
            event = self._events[event_id]
        return self._send(event, signed_at=signed_at)

    def _send(self, event: _Event, *, signed_at: int | None = None) -> int:
        if self.webhook_url is None:
            return 0
        header = sign(event.body, self.webhook_secret, signed_at or int(time.time()))
        try:
            status = httpx.post(self.webhook_url, content=event.body, timeout=DELIVERY_TIMEOUT_SECONDS,
                                headers={"Content-Type": "application/json; charset=utf-8",
                                         "Stripe-Signature": header, "User-Agent": "Stripe/1.0 (+stand-in)"}
                                ).status_code
        except httpx.HTTPError:
            status = 0
        with self._state:
            event.deliveries.append(status)
        return status

    def _control(self, request: Request) -> Response:
        if request.method == "GET" and request.path == "/_stand_in/events":
            with self._state:
                listed = [{"id": e.id, "type": e.type, "deliveries": list(e.deliveries)}
                          for e in self._events.values()]
            return self._json({"data": listed})
        match = re.fullmatch(r"/_stand_in/events/([\w-]+)/deliver", request.path)
        if request.method == "POST" and match:
            with self._state:
                known = match.group(1) in self._events
            if not known:
                return self._error(404, "invalid_request_error", "No such event")
            signed_at = request.args.get("signed_at")
            return self._json({"status": self.deliver(match.group(1),
                                                      signed_at=int(signed_at) if signed_at else None)})
        if request.method == "GET" and request.path == "/_stand_in/payment_intents":
            with self._state:
                return self._json({"data": list(self._intents.values())})
        card = re.fullmatch(r"/_stand_in/cards/([\w-]+)/decline", request.path)
        if request.method == "POST" and card:
            with self._state:
                self._declining.add(card.group(1))
            return self._json({"declining": card.group(1)})
        if request.method == "POST" and request.path == "/_stand_in/disputes":
            with self._state:
                charge = self._charges.get(request.form.get("payment_intent", ""))
                snapshot = dict(charge) if charge else None
            if snapshot is None:
                return self._error(404, "invalid_request_error", "No such payment_intent")
            dispute = {"id": _id("dp"), "object": "dispute", "amount": snapshot["amount"] - snapshot["amount_refunded"],
                       "charge": snapshot["id"], "payment_intent": snapshot["payment_intent"],
                       "status": "needs_response", "reason": "fraudulent"}
            event = self._event("charge.dispute.created", dispute)
            return self._json({"dispute": dispute, "event": event.id, "status": self._send(event)})
        return self._error(404, "invalid_request_error", "Unknown stand-in control")

    # ---- answers --------------------------------------------------------------------------------------------

    @staticmethod
    def _public(obj: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    @staticmethod
    def _json(body: dict[str, Any], status: int = 200) -> Response:
        return Response(json.dumps(body), status=status, mimetype="application/json",
                        headers={"Request-Id": _id("req")})

    def _error(self, status: int, kind: str, message: str) -> Response:
        return self._json({"error": {"type": kind, "message": message}}, status)


_PAGE = """<!doctype html><html><head><title>Checkout (local Stripe stand-in)</title></head>
<body style="font-family: sans-serif; max-width: 28em; margin: 4em auto">
<h1>Retouch credit</h1><p>Pay <strong>{amount} {currency}</strong> (local stand-in: no card needed).</p>
<form method="post" action="{action}"><button type="submit">Pay</button></form></body></html>"""
