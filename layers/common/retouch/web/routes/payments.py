"""POST /v1/billing/top_ups, GET /v1/billing/payments, GET/PUT /v1/billing/auto_recharge and /alerts, Stripe's webhook
(POST /v1/billing/stripe/webhook: public, but signature-verified): the payments function's routes (payments/)."""


from dataclasses import dataclass
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel

from retouch.auth.standing import AccountReader, require_standing
from retouch.models.payments import (
    AutoRechargeRequest,
    AutoRechargeView,
    BalanceAlertRequest,
    BalanceAlertView,
    PaymentList,
    TopUpRequest,
    TopUpView,
)
from retouch.models.responses import ErrorBody
from retouch.paging import MAX_PAGE
from retouch.payments.auto_recharge import balance_alert_view, choose, choose_balance_alert, view
from retouch.payments.stripe_events import StripeEventsDeps, receive_stripe_webhook
from retouch.payments.top_ups import TopUpPolicy, list_payments, start_top_up
from retouch.web.principal import current_caller
from retouch.web.request_parsing import SMALL_JSON_BODY_BYTES, parse_json_body, raw_body
from retouch.web.responses import UNAUTHORIZED, documented, json_response
from retouch.web.route_groups import RouteGroup

# Stripe's events are small (a few KB); anything far larger is not one. A top-up's body is one number.
MAX_STRIPE_EVENT_BYTES = 512 * 1024


@dataclass(frozen=True)
class PaymentRoutes:
    stripe: StripeEventsDeps
    policy: TopUpPolicy
    accounts: AccountReader  # a key revoked within the authorizer's cache is refused here (auth/standing.py)


class StripeWebhookAck(BaseModel):
    received: Literal[True] = True
    outcome: str


routes = RouteGroup(Router(), PaymentRoutes)
router = routes.router


@router.post("/v1/billing/top_ups", summary="Buy credit: a Stripe Checkout page", responses={
    200: documented(TopUpView, "Open `url` to pay; the balance rises when Stripe confirms the payment"),
    400: documented(ErrorBody, "Amount outside the operator's range (`invalid_amount`) or not in cents"),
    401: UNAUTHORIZED,
    415: documented(ErrorBody, "Wrong content type"),
    502: documented(ErrorBody, "Stripe refused or failed (`payment_provider_error`); retry"),
    503: documented(ErrorBody, "Payments are not enabled on this deployment (`payments_not_enabled`)"),
}, description="Creates a Stripe Checkout Session for the calling account. Nothing is credited until Stripe's signed "
               "event says the payment succeeded; then the balance rises by exactly `amount_usd`, once. JSON "
               "`{\"amount_usd\": \"25.00\"}`.")
def create_top_up() -> Response[TopUpView]:
    deps, caller = routes.deps(), current_caller()
    require_standing(deps.accounts, caller.account_id, caller.key_id)
    request = parse_json_body(routes.event().raw_event, SMALL_JSON_BODY_BYTES, TopUpRequest)
    return json_response(start_top_up(deps.stripe.gateway, deps.policy, caller.account_id, request.amount_usd,
                                      save_card=request.save_card))


@router.get("/v1/billing/payments", summary="The account's payments, newest first", responses={
    200: documented(PaymentList, "Credited payments with their Stripe ids, receipts and what was taken back"),
    400: documented(ErrorBody, "Invalid limit or cursor"),
    401: UNAUTHORIZED,
})
def get_payments(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Payments per page")] = 20,
    after: Annotated[str | None, Query(description="The previous page's `next_cursor`", max_length=2048)] = None,
) -> Response[PaymentList]:
    return json_response(list_payments(routes.deps().stripe.books, current_caller().account_id, limit, after))


@router.post("/v1/billing/stripe/webhook", summary="Stripe's events (called by Stripe, not by customers)", responses={
    200: documented(StripeWebhookAck, "Verified; applied, or a duplicate, or an event Retouch ignores"),
    400: documented(ErrorBody, "The `Stripe-Signature` does not verify (`invalid_signature`: forged, altered or "
                               "replayed past 5 minutes); nothing was read or changed"),
    409: documented(ErrorBody, "A refund or dispute of a payment not credited yet (`payment_not_recorded`): Stripe "
                               "delivers it again later"),
    503: documented(ErrorBody, "Payments are not enabled on this deployment (`payments_not_enabled`): the Stripe "
                               "secret still holds placeholders, so nothing is verified"),
}, description="Public (no API key): every request must carry a valid Stripe signature, verified with Stripe's "
               "library against the webhook secret. Each payment is credited exactly once. Refused with 503 while "
               "the Stripe secret holds no real keys (the template's `replace-me`).",
             openapi_extensions={"security": []})  # no key: overrides the document's bearer requirement
def stripe_webhook() -> Response[StripeWebhookAck]:
    event = routes.event()
    payload = raw_body(event.raw_event, MAX_STRIPE_EVENT_BYTES)
    outcome = receive_stripe_webhook(routes.deps().stripe, payload, event.headers.get("stripe-signature"))
    return json_response(StripeWebhookAck(outcome=outcome))


@router.get("/v1/billing/auto_recharge", summary="The account's auto-recharge settings", responses={
    200: documented(AutoRechargeView, "Settings, whether a card is saved, this month's recharges, a pending one"),
    401: UNAUTHORIZED,
})
def get_auto_recharge() -> Response[AutoRechargeView]:
    return json_response(view(routes.deps().stripe.recharge, current_caller().account_id))


@router.put("/v1/billing/auto_recharge", summary="Set auto-recharge", responses={
    200: documented(AutoRechargeView, "Saved; a recharge turned off by a failure or the cap is on again if enabled"),
    400: documented(ErrorBody, "Invalid amounts, or `no_saved_card` (top up once with `save_card: true`)"),
    401: UNAUTHORIZED,
    415: documented(ErrorBody, "Wrong content type"),
    503: documented(ErrorBody, "Turning it on while payments are not enabled on this deployment "
                               "(`payments_not_enabled`)"),
}, description="JSON `{enabled, threshold_usd, recharge_to_usd, monthly_cap_usd}`. When a job's settlement leaves "
               "the balance under `threshold_usd`, the saved card is charged once, off-session, up to "
               "`recharge_to_usd`; a declined card or the monthly cap turns it off (`disabled_reason`).")
def put_auto_recharge() -> Response[AutoRechargeView]:
    deps, caller = routes.deps(), current_caller()
    require_standing(deps.accounts, caller.account_id, caller.key_id)
    request = parse_json_body(routes.event().raw_event, SMALL_JSON_BODY_BYTES, AutoRechargeRequest)
    return json_response(choose(deps.stripe.recharge, deps.stripe.gateway, caller.account_id, request))


@router.get("/v1/billing/alerts", summary="The account's balance alert", responses={
    200: documented(BalanceAlertView, "The threshold, and whether the current dip was alerted"),
    401: UNAUTHORIZED,
})
def get_balance_alert() -> Response[BalanceAlertView]:
    return json_response(balance_alert_view(routes.deps().stripe.recharge, current_caller().account_id))


@router.put("/v1/billing/alerts", summary="Set the balance alert", responses={
    200: documented(BalanceAlertView, "Saved"),
    400: documented(ErrorBody, "Invalid amount"),
    401: UNAUTHORIZED,
    415: documented(ErrorBody, "Wrong content type"),
}, description="JSON `{balance_low_usd}` (null: off). When a job's settlement leaves the balance under it, the "
               "account's default webhook URL gets a signed `account.balance_low` event, once until the balance is "
               "back at it or above.")
def put_balance_alert() -> Response[BalanceAlertView]:
    deps, caller = routes.deps(), current_caller()
    require_standing(deps.accounts, caller.account_id, caller.key_id)
    request = parse_json_body(routes.event().raw_event, SMALL_JSON_BODY_BYTES, BalanceAlertRequest)
    return json_response(choose_balance_alert(deps.stripe.recharge, caller.account_id, request))
