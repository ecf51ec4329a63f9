"""50 concurrent submits against credit for exactly 10 jobs: exactly 10 accepted, never below zero."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from retouch.errors import InsufficientCredits
from retouch.jobs.submit import submit_generation
from retouch.models.requests import GenerationRequest
from tests.builders import admission_for, generation_payload
from tests.integration.billing.conftest import seed, submit_deps_on_moto
from tests.integration.core.aws_stack import Stack

PRICE = 53_000 + 5 * len("a lighthouse at dawn")  # medium, 1024x1024, and the prompt's bytes held as tokens at $5/M


def test_fifty_concurrent_submits_against_credit_for_ten_accept_exactly_ten(fresh: Stack) -> None:
    # Given an account with credit for exactly 10 medium 1024x1024 jobs, and 50 threads ready to submit
    account_id = seed(fresh, credit_micros=10 * PRICE)
    deps = submit_deps_on_moto()
    ledger = deps.billing.ledger
    request = GenerationRequest.model_validate(generation_payload(quality="medium", size="1024x1024"))
    start = threading.Barrier(50)

    def attempt(_: int) -> str:
        start.wait()
        try:
            submit_generation(admission_for(ledger, account_id), request, deps)
        except InsufficientCredits:
            return "refused"
        return "accepted"

    # When all 50 submit at once
    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(attempt, range(50)))

    # Then exactly 10 are accepted, 40 refused 402, and no balance along the way was below zero
    assert (outcomes.count("accepted"), outcomes.count("refused")) == (10, 40)
    account, entries = ledger.account_with_ledger(account_id)
    assert account.balance_micros == 0 and account.in_flight == 10
    assert len(fresh.jobs_of(account_id)) == 10
    assert [e.kind for e in entries].count("reserve") == 10
    # each hold saw its own balance: the ten holds left 9, 8, ... 0 jobs' worth, never less
    assert sorted(e.balance_after_micros for e in entries if e.kind == "reserve") == [i * PRICE for i in range(10)]
    assert len(account.holds) == 10
    assert sum(e.amount_micros for e in entries) == account.balance_micros
