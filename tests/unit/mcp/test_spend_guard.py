"""retouch.mcp.spend_guard: the hold it checks is the API's own (the billing function the submit holds with), and a
call above the ceiling is refused."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from retouch.billing.charges import JobBilling
from retouch.billing.prices import price_table
from retouch.mcp.spend_guard import SpendGuard, SpendLimitExceeded
from retouch.models.records import StoredInput
from retouch.models.requests import GenerationRequest


@pytest.mark.parametrize("options", [{"prompt": "x"}, {"prompt": "x", "n": 3, "quality": "high", "size": "1536x1024"},
                                     {"prompt": "x", "model": "gpt-image-1-mini", "quality": "low"}])
@pytest.mark.parametrize("markup", [None, 0, 35])
def test_the_guard_checks_the_hold_the_api_takes(options: dict[str, object], markup: int | None) -> None:
    # Given the request as the API validates it, and the job record's fields the submit prices
    request = GenerationRequest.model_validate(options)
    record: Any = SimpleNamespace(model=request.model, request=request.job_request(), inputs=[], mask=None)
    billing: Any = JobBilling(ledger=None, jobs=None, prices=price_table(markup))  # type: ignore[arg-type]
    # Then the guard's amount is exactly what the submit holds
    assert SpendGuard(None, markup).hold_micros(request) == billing.price(record)


def test_an_edits_images_are_checked_at_the_hold_the_api_takes_for_images_of_unknown_size() -> None:
    # Given an edit of two images and a mask whose sizes the guard does not read
    request = GenerationRequest.model_validate({"prompt": "a long prompt " * 50, "quality": "medium"})
    record: Any = SimpleNamespace(model=request.model, request=request.job_request(),
                                  inputs=[StoredInput(url="https://example.com/a.png")] * 2,
                                  mask=StoredInput(url="https://example.com/m.png"))
    billing: Any = JobBilling(ledger=None, jobs=None, prices=price_table(None))  # type: ignore[arg-type]
    # Then the guard holds what the API holds for them, more than for the prompt alone
    assert SpendGuard(None).hold_micros(request, 3) == billing.price(record) > SpendGuard(None).hold_micros(request)


def test_a_call_above_the_ceiling_is_refused_with_both_amounts() -> None:
    request = GenerationRequest.model_validate({"prompt": "x", "n": 4, "quality": "high"})
    guard = SpendGuard(max_micros_per_call=500_000)
    with pytest.raises(SpendLimitExceeded) as refused:
        guard.check(request)
    assert refused.value.hold_micros > 500_000 and "$0.500000" in str(refused.value)


def test_without_a_ceiling_every_call_passes_the_guard() -> None:
    request = GenerationRequest.model_validate({"prompt": "x", "n": 10, "quality": "high"})
    assert SpendGuard(None).check(request) > 0


@pytest.mark.parametrize(("deployment", "key", "applied"), [
    pytest.param(2_000_000, 500_000, 500_000, id="key-lower"),
    pytest.param(500_000, 2_000_000, 500_000, id="deployment-lower"),
    pytest.param(None, 500_000, 500_000, id="no-deployment-ceiling"),
    pytest.param(2_000_000, None, 2_000_000, id="no-key-ceiling"),
    pytest.param(None, None, None, id="neither"),
])
def test_a_keys_ceiling_only_narrows_the_deployments(deployment: int | None, key: int | None,
                                                     applied: int | None) -> None:
    assert SpendGuard(deployment, 35).narrowed_to(key) == SpendGuard(applied, 35)


def test_a_call_within_the_deployments_ceiling_but_above_the_keys_is_refused() -> None:
    # Given a $1 hold, a $2 deployment ceiling and a $0.50 key ceiling
    request = GenerationRequest.model_validate({"prompt": "x", "n": 4, "quality": "high"})
    deployment = SpendGuard(max_micros_per_call=2_000_000)
    hold = deployment.check(request)
    assert 500_000 < hold <= 2_000_000
    # Then the narrowed guard refuses it, naming the key's ceiling
    with pytest.raises(SpendLimitExceeded) as refused:
        deployment.narrowed_to(500_000).check(request)
    assert refused.value.limit_micros == 500_000
