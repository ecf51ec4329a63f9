"""retouch.mcp.spend_guard: the hold it checks is the API's own (the billing function the submit holds with), and a
call above the ceiling is refused."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from retouch.billing.charges import JobBilling
from retouch.billing.prices import price_table
from retouch.mcp.spend_guard import SpendGuard, SpendLimitExceeded
from retouch.models.requests import GenerationRequest


@pytest.mark.parametrize("options", [{"prompt": "x"}, {"prompt": "x", "n": 3, "quality": "high", "size": "1536x1024"},
                                     {"prompt": "x", "model": "gpt-image-1-mini", "quality": "low"}])
@pytest.mark.parametrize("markup", [None, 0, 35])
def test_the_guard_checks_the_hold_the_api_takes(options: dict[str, object], markup: int | None) -> None:
    # Given the request as the API validates it, and the job record's fields the submit prices
    request = GenerationRequest.model_validate(options)
    record: Any = SimpleNamespace(model=request.model, request=request.job_request())
    billing: Any = JobBilling(ledger=None, jobs=None, prices=price_table(markup))  # type: ignore[arg-type]
    # Then the guard's amount is exactly what the submit holds
    assert SpendGuard(None, markup).hold_micros(request) == billing.price(record)


def test_a_call_above_the_ceiling_is_refused_with_both_amounts() -> None:
    request = GenerationRequest.model_validate({"prompt": "x", "n": 4, "quality": "high"})
    guard = SpendGuard(max_micros_per_call=500_000)
    with pytest.raises(SpendLimitExceeded) as refused:
        guard.check(request)
    assert refused.value.hold_micros > 500_000 and "$0.500000" in str(refused.value)


def test_without_a_ceiling_every_call_passes_the_guard() -> None:
    request = GenerationRequest.model_validate({"prompt": "x", "n": 10, "quality": "high"})
    assert SpendGuard(None).check(request) > 0
