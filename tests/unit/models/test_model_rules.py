"""Each model is validated by its own rules at submit."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from retouch.models.requests import GenerationRequest


@pytest.mark.parametrize("model", ["gpt-image-1.5", "gpt-image-1-mini"])
def test_fixed_size_models_take_only_their_sizes(model: str) -> None:
    assert GenerationRequest(model=model, prompt="p", size="1024x1536").size == "1024x1536"
    with pytest.raises(ValidationError) as raised:
        GenerationRequest(model=model, prompt="p", size="2048x2048")
    error = raised.value.errors()[0]
    assert error["type"] == "invalid_size" and "1024x1024, 1536x1024, 1024x1536" in error["msg"]


def test_gpt_image_2_takes_any_size_within_its_limits_and_its_alias() -> None:
    request = GenerationRequest(model="gpt-image-2-2026-04-21", prompt="p", size="2048x1152")
    assert (request.model, request.size) == ("gpt-image-2", "2048x1152")
    with pytest.raises(ValidationError):
        GenerationRequest(model="gpt-image-2", prompt="p", size="4096x4096")
