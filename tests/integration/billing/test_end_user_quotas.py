"""Per-end-user quotas on moto (atomic per request, as DynamoDB): held before the job may run, exact under
concurrency, released when a job fails, settled when it ends; other end users unaffected; defaults for new ones."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from retouch.billing.charges import JobBilling
from retouch.billing.end_user_quotas import EndUserQuotas
from retouch.billing.prices import price_table
from retouch.billing.pricing_rule import PricedRequest, hold_micros
from retouch.data.client_tokens import ClientTokenRepository
from retouch.data.end_users import EndUserRepository
from retouch.end_users.device_tokens import mint_client_token
from retouch.end_users.management import get_end_user, set_defaults, set_end_user_limits
from retouch.errors import EndUserLimitExceeded
from retouch.jobs.submit import SubmitDeps, submit_generation
from retouch.models.client_tokens import ClientTokenRequest
from retouch.models.common import now_epoch
from retouch.models.end_users import LimitsUpdate
from retouch.models.records import JobError
from retouch.models.requests import GenerationRequest
from tests.builders import admission_for, generation_payload
from tests.integration.billing.conftest import seed, submit_deps_on_moto
from tests.integration.billing.pricing import DEFAULT_PROMPT
from tests.integration.core.aws_stack import Stack, client

# What one medium 1024x1024 generation of the default prompt holds (its output, and the prompt at its worst case).
PRICE = hold_micros(price_table(), PricedRequest(model="gpt-image-2", quality="medium", size="1024x1024", n=1,
                                                 prompt=DEFAULT_PROMPT))


def _deps_with_end_users(stack: Stack) -> tuple[SubmitDeps, EndUserRepository]:
    deps = submit_deps_on_moto()
    store = EndUserRepository(stack.table, client("dynamodb"))
    billing = JobBilling(ledger=deps.billing.ledger, jobs=deps.jobs, prices=deps.billing.prices,
                         end_users=EndUserQuotas(store=store))
    return SubmitDeps(jobs=deps.jobs, store=deps.store, queue=deps.queue, files=deps.files, billing=billing,
                      webhook_for=deps.webhook_for, upstream_support=deps.upstream_support), store


def _request(user: str, **overrides: Any) -> GenerationRequest:
    return GenerationRequest.model_validate(generation_payload(quality="medium", size="1024x1024", user=user,
                                                               **overrides))


def _limits(**values: Any) -> LimitsUpdate:
    return LimitsUpdate.model_validate({"requests_per_minute": 1000, "images_per_day": 1000, "usd_per_day": "100",
                                        "usd_per_month": "1000", **values})


def test_fifty_concurrent_submits_for_an_end_user_allowed_ten_images_accept_exactly_ten(fresh: Stack) -> None:
    # Given an account with plenty of credit, and an end user allowed 10 images a day
    account_id = seed(fresh, credit_micros=100 * PRICE)
    deps, store = _deps_with_end_users(fresh)
    set_end_user_limits(store, account_id, "u_race", _limits(images_per_day=10), now_epoch())
    start = threading.Barrier(50)
    refusals: list[EndUserLimitExceeded] = []

    def attempt(_: int) -> str:
        start.wait()
        try:
            submit_generation(admission_for(deps.billing.ledger, account_id), _request("u_race"), deps)
        except EndUserLimitExceeded as refused:
            refusals.append(refused)
            return "refused"
        return "accepted"

    # When 50 submits for that end user race
    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(attempt, range(50)))

    # Then exactly 10 are accepted; each refusal is a 429 naming the limit, with a Retry-After
    assert (outcomes.count("accepted"), outcomes.count("refused")) == (10, 40)
    assert {(r.status_code, r.code, r.param) for r in refusals} == {(429, "end_user_limit_exceeded",
                                                                     "images_per_day")}
    assert all(0 < int(r.headers["Retry-After"]) <= 86400 for r in refusals)
    # and the end user's item holds exactly those 10, the account exactly their price; no refused job is left
    view = get_end_user(store, account_id, "u_race", now_epoch())
    assert (view.usage.images_today, view.usage.in_flight, view.usage.usd_today_micros) == (10, 10, 10 * PRICE)
    account = deps.billing.ledger.get_account(account_id)
    assert account is not None and len(account.holds) == 10
    jobs = fresh.jobs_of(account_id)
    assert len(jobs) == 10 and {job["end_user"]["S"] for job in jobs} == {"u_race"}
    # and another end user of the account is unaffected
    other = submit_generation(admission_for(deps.billing.ledger, account_id), _request("u_other"), deps)
    assert other.end_user == "u_other"


def test_a_failed_job_gives_its_end_user_hold_back_and_a_settled_one_counts_only_its_charge(fresh: Stack) -> None:
    # Given an end user allowed 2 images a day, with two jobs holding them
    account_id = seed(fresh, credit_micros=100 * PRICE)
    deps, store = _deps_with_end_users(fresh)
    set_end_user_limits(store, account_id, "u_fail", _limits(images_per_day=2), now_epoch())
    admission = admission_for(deps.billing.ledger, account_id)
    first = submit_generation(admission, _request("u_fail"), deps)
    submit_generation(admission, _request("u_fail"), deps)

    # When one fails (a dead-lettered message, say)
    assert deps.billing.release_unfinished(first.job_id, error=JobError(code="processing_failed", message="x"),
                                           now=now_epoch())

    # Then its image and price are free again, and a third job is accepted
    view = get_end_user(store, account_id, "u_fail", now_epoch())
    assert (view.usage.images_today, view.usage.in_flight, view.usage.spent_micros) == (1, 1, 0)
    third = submit_generation(admission, _request("u_fail"), deps)
    assert third.end_user == "u_fail"
    # and the ledger's entries name the end user
    _, entries = deps.billing.ledger.account_with_ledger(account_id)
    assert {entry.end_user for entry in entries if entry.kind != "credit"} == {"u_fail"}


def test_each_limit_refuses_by_name_and_a_new_end_user_gets_the_defaults(fresh: Stack) -> None:
    account_id = seed(fresh, credit_micros=100 * PRICE)
    deps, store = _deps_with_end_users(fresh)
    admission = admission_for(deps.billing.ledger, account_id)
    # A never-seen end user has the system's defaults (never unlimited) until the account sets its own
    assert get_end_user(store, account_id, "u_new", now_epoch()).limits_source == "system_default"
    set_defaults(store, account_id, _limits(usd_per_day="0.06"))
    assert get_end_user(store, account_id, "u_new", now_epoch()).limits_source == "account_default"

    # The account's default caps a new end user's day at $0.06: one medium image ($0.053), not two
    submit_generation(admission, _request("u_new"), deps)
    refused = _refusal(lambda: submit_generation(admission, _request("u_new"), deps))
    assert refused.param == "usd_per_day"

    # Requests per minute, and the month's dollars, each named when they refuse
    set_end_user_limits(store, account_id, "u_rpm", _limits(requests_per_minute=1), now_epoch())
    submit_generation(admission, _request("u_rpm"), deps)
    refused = _refusal(lambda: submit_generation(admission, _request("u_rpm"), deps))
    assert refused.param == "requests_per_minute" and 0 < int(refused.headers["Retry-After"]) <= 60
    set_end_user_limits(store, account_id, "u_month", _limits(usd_per_month="0.05"), now_epoch())
    assert _refusal(lambda: submit_generation(admission, _request("u_month"), deps)).param == "usd_per_month"
    # A refused submit leaves no job behind
    assert {job["end_user"]["S"] for job in fresh.jobs_of(account_id)} == {"u_new", "u_rpm"}


def _refusal(submit: Any) -> EndUserLimitExceeded:
    try:
        submit()
    except EndUserLimitExceeded as refused:
        return refused
    raise AssertionError("the submit was accepted")


class _TokenHoldAnswerLost(ClientTokenRepository):
    """A device token's hold that DynamoDB applied but whose answer never came back (the SDK's retries spent)."""

    def hold(self, token_id: str, job_id: str, micros: int, now: int) -> bool:
        super().hold(token_id, job_id, micros, now)
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "lost"}},
                          "UpdateItem")


def test_a_submit_whose_token_hold_fails_gives_back_the_end_users_and_the_tokens_holds(fresh: Stack) -> None:
    # Given an end user's device token whose hold is applied but answered with an error
    account_id = seed(fresh, credit_micros=100 * PRICE)
    deps, store = _deps_with_end_users(fresh)
    tokens = _TokenHoldAnswerLost(fresh.table, client("dynamodb"))
    minted = mint_client_token(account_id, ClientTokenRequest.model_validate(
        {"user": "u_phone", "scopes": ["images:generate"], "spend_cap_usd": "1.00"}), tokens, now_epoch())
    billing = JobBilling(ledger=deps.billing.ledger, jobs=deps.jobs, prices=deps.billing.prices,
                         end_users=EndUserQuotas(store=store, tokens=tokens))
    deps = SubmitDeps(jobs=deps.jobs, store=deps.store, queue=deps.queue, files=deps.files, billing=billing,
                      webhook_for=deps.webhook_for, upstream_support=deps.upstream_support)

    # When a submit by that token fails at the token's hold
    with pytest.raises(ClientError):
        submit_generation(admission_for(deps.billing.ledger, account_id), _request("u_phone"), deps,
                          client_token_id=minted.id)

    # Then no job is left, and neither the end user nor the token keeps a hold for it (nothing would ever end it)
    assert fresh.jobs_of(account_id) == []
    view = get_end_user(store, account_id, "u_phone", now_epoch())
    assert (view.usage.in_flight, view.usage.images_today, view.usage.usd_today_micros) == (0, 0, 0)
    token = tokens.get(minted.id)
    assert token is not None and (token.holds, token.committed_micros) == ({}, 0)
    account = deps.billing.ledger.get_account(account_id)
    assert account is not None and account.holds == {}
