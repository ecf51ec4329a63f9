"""The request edge never answers 500 for bad input: nulls, arbitrary JSON values and undecodable text
are either accepted or refused with an OpenAI-shaped 4xx naming the field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retouch.errors import InvalidRequest, RetouchError
from retouch.models.requests import EditRequest, GenerationRequest
from retouch.web.request_parsing import parse_edit, parse_generation
from tests.builders import (
    edit_payload,
    file_part,
    generation_payload,
    http_event,
    multipart,
    multipart_content_type,
    png,
)

MAX_BYTES = 1024 * 1024


def json_request(sample: str, body: bytes) -> dict[str, Any]:
    return http_event(sample, account_id="acct_abcdefghij0123456789", body=body, content_type="application/json",
                      base64_body=True)


def multipart_request(fields: list[tuple]) -> dict[str, Any]:
    return http_event("edit_multipart.json", account_id="acct_abcdefghij0123456789", body=multipart(fields),
                      content_type=multipart_content_type(), base64_body=True)


# -- null ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["generation", "edit"])
def test_null_webhook_events_is_the_same_as_leaving_it_out(route: str) -> None:
    # Given a JSON body with "webhook_events": null (pydantic used to raise TypeError here: a 500)
    payload = (generation_payload if route == "generation" else edit_payload)(webhook_events=None, webhook_url=None)
    sample, parse = ("generation.json", parse_generation) if route == "generation" else ("edit_json.json", parse_edit)

    # When it is parsed
    request = parse(json_request(sample, json.dumps(payload).encode()), MAX_BYTES)

    # Then the field is absent: the default events apply
    assert request.webhook_events is None and request.webhook_url is None


@pytest.mark.parametrize("value", [[], ["job.started"], "job.failed,job.started"])
def test_webhook_events_keeps_its_other_forms(value: Any) -> None:
    request = GenerationRequest.model_validate(generation_payload(webhook_events=value))
    assert request.webhook_events == (value if isinstance(value, list) else ["job.failed", "job.started"])


def test_more_webhook_events_than_exist_is_a_validation_error_not_a_crash() -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_generation(json_request("generation.json", json.dumps(
            generation_payload(webhook_events=["job.started"] * 5)).encode()), MAX_BYTES)
    assert refused.value.param == "webhook_events"


# -- any JSON value in any field ------------------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
_FIELDS = sorted(set(EditRequest.model_fields) | {"image", "stream", "input_fidelity"})


# In a full run, threads left by earlier tests (boto3 retry jitter, backoff) may touch the global `random` while
# Hypothesis generates; it then warns about strategies using `random`, which these do not.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(route=st.sampled_from(["generation", "edit"]),
       fields=st.dictionaries(st.sampled_from(_FIELDS), _JSON, min_size=1, max_size=4))
def test_any_json_value_in_any_field_is_accepted_or_a_4xx(route: str, fields: dict[str, Any]) -> None:
    # Given a valid body with some fields replaced by arbitrary JSON values
    payload = (generation_payload if route == "generation" else edit_payload)(**fields)
    sample, parse = ("generation.json", parse_generation) if route == "generation" else ("edit_json.json", parse_edit)

    # When it is parsed
    try:
        parse(json_request(sample, json.dumps(payload).encode()), MAX_BYTES)
    except RetouchError as refused:
        # Then a refusal is a client error (never TypeError, never a 500)
        assert 400 <= refused.status_code < 500


# -- undecodable text -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "param"), [("prompt", "prompt"), ("user", "user"), ("metadata[k]", "metadata"),
                                             ("metadata", "metadata")])
def test_invalid_utf8_in_a_multipart_text_field_is_a_400_naming_it(name: str, param: str) -> None:
    # Given a multipart edit whose text field holds bytes that are not UTF-8
    fields: list[tuple] = [file_part("image", png()), ("prompt", "p")]
    fields = [f for f in fields if f[0] != name] + [(name, b"caf\xe9 \xff")]

    # When it is parsed
    with pytest.raises(InvalidRequest) as refused:
        parse_edit(multipart_request(fields), MAX_BYTES)

    # Then it is a 400 naming the field, as the same bytes in JSON are (no silent U+FFFD)
    assert (refused.value.status_code, refused.value.param) == (400, param)
    assert refused.value.code == "invalid_encoding"


def test_valid_utf8_in_multipart_text_is_kept_exactly() -> None:
    request = parse_edit(multipart_request([file_part("image", png()), ("prompt", "café ☕ 日本")]), MAX_BYTES)
    assert request.prompt == "café ☕ 日本"


@pytest.mark.parametrize("raw", [
    pytest.param(b'{"prompt": "caf\xe9"}', id="latin-1-byte"),
    pytest.param(b'{"prompt": "\\udc80 lone surrogate escape"}', id="lone-surrogate-escape"),
    pytest.param(b'{"prompt": "ok", "metadata": {"k": "\xff"}}', id="nested"),
])
def test_invalid_utf8_in_json_is_a_400_naming_the_field(raw: bytes) -> None:
    # Given a JSON generation whose string holds undecodable bytes (or an escape no UTF-8 can encode)
    # When it is parsed
    with pytest.raises(InvalidRequest) as refused:
        parse_generation(json_request("generation.json", raw), MAX_BYTES)

    # Then it is a 400 naming the field
    expected = "metadata" if b"metadata" in raw else "prompt"
    assert (refused.value.status_code, refused.value.param, refused.value.code) == (400, expected, "invalid_encoding")
