"""Stripe through its official library: Checkout Sessions out, webhook signatures verified by the library itself.

`api_base` points the client at another Stripe API (the local stand-in, local/stand_ins/stripe_api.py); the keys are
read through `keys()` on first use (Secrets Manager, cached there), so the library is imported and the secret read
only by a request that needs them, never at cold start. Neither key is ever logged.

Every call first reads the keys and refuses (GatewayNotConfigured) while either is empty or a placeholder: the template
ships `replace-me`, a value anyone can read, so an event "signed" with it must never verify.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

from retouch.models.payments import CheckoutRequest, CheckoutSession, OffSessionPayment, StripeKeys
from retouch.payments.ports import GatewayFailed, GatewayNotConfigured, PaymentDeclined, SignatureRejected
from retouch.retry import STRIPE_NETWORK_RETRIES

if TYPE_CHECKING:
    import stripe

# Stripe's own default tolerance: a signature older than this is a replay, refused.
SIGNATURE_TOLERANCE_SECONDS = 300
# The whole Stripe call must fit in API Gateway's 30 s with the rest of the request.
STRIPE_TIMEOUT_SECONDS = 10


class StripeGateway:
    def __init__(self, keys: Callable[[], StripeKeys], *, api_base: str | None = None) -> None:
        self._keys = keys
        self._api_base = api_base

    def _usable_keys(self) -> StripeKeys:
        keys = self._keys()
        if not keys.configured:
            raise GatewayNotConfigured("the Stripe secret's secret_key or webhook_secret is unset (empty or a "
                                       "placeholder such as replace-me)")
        return keys

    def ensure_configured(self) -> None:
        self._usable_keys()

    @cached_property
    def _client(self) -> stripe.StripeClient:
        import stripe

        addresses: Any = {"api": self._api_base} if self._api_base else None
        return stripe.StripeClient(
            self._usable_keys().secret_key, base_addresses=addresses, max_network_retries=STRIPE_NETWORK_RETRIES,
            http_client=stripe.RequestsClient(timeout=STRIPE_TIMEOUT_SECONDS))

    def create_checkout_session(self, request: CheckoutRequest) -> CheckoutSession:
        import stripe

        self.ensure_configured()  # each time: the client below is built once, the secret may have been reset since
        metadata = {"retouch_account_id": request.account_id, "retouch_purpose": "top_up"}
        intent_data: dict[str, Any] = {"metadata": metadata}
        extra: dict[str, Any] = {}
        if request.save_card:  # kept on a customer for auto-recharge's off-session payments
            intent_data["setup_future_usage"] = "off_session"
            intent_data["metadata"] = metadata | {"retouch_save_card": "true"}
            extra["customer_creation"] = "always"
        params: dict[str, Any] = {
            **extra,
            "mode": "payment",
            "client_reference_id": request.account_id,
            "line_items": [{"quantity": 1, "price_data": {
                "currency": request.currency, "unit_amount": request.amount_minor,
                "product_data": {"name": "Retouch credit"}}}],
            "metadata": metadata,
            # Copied to the PaymentIntent, so its own events (and refunds and disputes of it) name the account.
            "payment_intent_data": intent_data,
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
        }
        try:
            # A plain dict: the library's TypedDict has no key for the optional parts added above.
            session = self._client.v1.checkout.sessions.create(params=cast(Any, params))
        except stripe.StripeError as exc:
            raise GatewayFailed(f"Stripe refused the Checkout Session: {exc.user_message or type(exc).__name__}"
                                ) from exc
        if not session.url:
            raise GatewayFailed("Stripe answered a Checkout Session without a URL")
        return CheckoutSession(id=session.id, url=session.url, expires_at=session.expires_at)

    def verified_event(self, payload: bytes, signature_header: str | None) -> dict[str, Any]:
        import stripe

        webhook_secret = self._usable_keys().webhook_secret
        try:
            stripe.Webhook.construct_event(payload, signature_header, webhook_secret,
                                           tolerance=SIGNATURE_TOLERANCE_SECONDS)
        except stripe.SignatureVerificationError as exc:
            raise SignatureRejected(str(exc)) from None
        except ValueError as exc:  # not JSON, though signed
            raise SignatureRejected("the payload is not JSON") from exc
        event = json.loads(payload)
        if not isinstance(event, dict):
            raise SignatureRejected("the payload is not an event")
        return event

    def charge_off_session(self, payment: OffSessionPayment) -> str:
        import stripe

        self.ensure_configured()
        try:
            intent = self._client.v1.payment_intents.create(params={
                "amount": payment.amount_minor, "currency": payment.currency, "customer": payment.customer_id,
                "payment_method": payment.payment_method_id, "off_session": True, "confirm": True,
                "metadata": {"retouch_account_id": payment.account_id, "retouch_purpose": "auto_recharge",
                             "retouch_claim": payment.claim},
            }, options={"idempotency_key": f"retouch-recharge-{payment.claim}"})
        except stripe.CardError as exc:
            raise PaymentDeclined(exc.user_message or exc.code or "the card was declined") from exc
        except stripe.StripeError as exc:
            raise GatewayFailed(f"Stripe failed the recharge: {type(exc).__name__}") from exc
        return str(intent.id)
