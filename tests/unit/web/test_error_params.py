"""An error names the param that is wrong, as deep as it is: an unknown key inside an object is named by its path."""

from __future__ import annotations

import json
from typing import Any

import pytest

from retouch.errors import UnknownParameter
from retouch.models.end_users import EndUserLimitsBody
from retouch.web.request_parsing import parse_json_body
from tests.builders import http_event

MAX_BYTES = 4 * 1024


def _put(body: dict[str, Any]) -> dict[str, Any]:
    return http_event("generation.json", account_id="acct_abcdefghij0123456789", body=json.dumps(body),
                      content_type="application/json", base64_body=False)


@pytest.mark.parametrize(("body", "param"), [
    pytest.param({"limits": {"bogus": 1}}, "limits.bogus", id="inside-limits"),
    pytest.param({"limits": {"images_per_day": 5}, "extra": 1}, "extra", id="top-level"),
])
def test_an_unknown_key_is_named_by_its_path(body: dict[str, Any], param: str) -> None:
    # Given end user limits with a key no limit has
    # When the body is read
    with pytest.raises(UnknownParameter) as refused:
        parse_json_body(_put(body), MAX_BYTES, EndUserLimitsBody)

    # Then the unknown key itself is named, not the object holding it
    assert (refused.value.code, refused.value.param) == ("unknown_parameter", param)
    assert refused.value.message == f"Unknown parameter: '{param}'."
