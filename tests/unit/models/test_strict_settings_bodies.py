"""The small JSON bodies (device tokens, end users' limits, top-ups) refuse a value of another JSON type where a
lenient reading would change its meaning: `true` as 1 second or 1 request, "yes" as keeping a card; and a device
token names each scope once (black-box review)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from retouch.models.client_tokens import ClientTokenRequest
from retouch.models.end_users import LimitsUpdate
from retouch.models.payments import TopUpRequest

TOKEN = {"user": "u_1", "scopes": ["images:edit"], "spend_cap_usd": "1.00"}


@pytest.mark.parametrize(("model", "body", "param"), [
    pytest.param(ClientTokenRequest, {**TOKEN, "expires_in": True}, "expires_in", id="token-expiry-true"),
    pytest.param(ClientTokenRequest, {**TOKEN, "expires_in": "900"}, "expires_in", id="token-expiry-string"),
    pytest.param(ClientTokenRequest, {**TOKEN, "scopes": ["images:edit", "images:edit"]}, "scopes",
                 id="token-scope-twice"),
    pytest.param(LimitsUpdate, {"requests_per_minute": True}, "requests_per_minute", id="limit-true"),
    pytest.param(LimitsUpdate, {"images_per_day": "5"}, "images_per_day", id="limit-string"),
    pytest.param(TopUpRequest, {"amount_usd": "5.00", "save_card": "yes"}, "save_card", id="save-card-yes"),
    pytest.param(TopUpRequest, {"amount_usd": "5.00", "save_card": 1}, "save_card", id="save-card-1"),
])
def test_a_value_of_another_json_type_is_refused(model: type[BaseModel], body: dict[str, Any], param: str) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(body)
    assert refused.value.errors()[0]["loc"][0] == param


@pytest.mark.parametrize(("model", "body"), [
    pytest.param(ClientTokenRequest, {**TOKEN, "expires_in": 600}, id="token"),
    pytest.param(LimitsUpdate, {"requests_per_minute": 10, "images_per_day": 0, "usd_per_day": 2.5}, id="limits"),
    pytest.param(TopUpRequest, {"amount_usd": "5.00", "save_card": True}, id="top-up"),
])
def test_the_documented_types_are_accepted(model: type[BaseModel], body: dict[str, Any]) -> None:
    model.model_validate(body)
