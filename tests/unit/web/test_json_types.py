"""A JSON body's values carry their own types and are taken strictly, as OpenAI's API does: an int refuses a bool
or a string, a bool refuses a string. A multipart form's fields are all strings (the openai SDK sends `n=2` and
`stream=true` so), and stay lenient. An image given by something present but invalid is named as invalid, not as
missing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from retouch.errors import InvalidRequest
from retouch.web.request_parsing import parse_edit, parse_generation, parse_quote, parse_upload
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
ACCOUNT = "acct_abcdefghij0123456789"
PARSERS: dict[str, tuple[str, Callable[[dict[str, Any], int], Any], Callable[..., dict[str, Any]]]] = {
    "generation": ("generation.json", parse_generation, generation_payload),
    "edit": ("edit_json.json", parse_edit, edit_payload),
    "quote": ("create_quote.json", parse_quote, generation_payload),
}


def _json(sample: str, payload: dict[str, Any]) -> dict[str, Any]:
    return http_event(sample, account_id=ACCOUNT, body=json.dumps(payload).encode(), content_type="application/json",
                      base64_body=True)


def _form(fields: list[tuple]) -> dict[str, Any]:
    return http_event("edit_multipart.json", account_id=ACCOUNT, body=multipart(fields),
                      content_type=multipart_content_type(), base64_body=True)


@pytest.mark.parametrize("route", sorted(PARSERS))
@pytest.mark.parametrize(("field", "value"), [
    pytest.param("n", True, id="n-true"),
    pytest.param("n", "2", id="n-string"),
    pytest.param("n", 2.0, id="n-float"),
    pytest.param("stream", "yes", id="stream-string"),
    pytest.param("stream", "true", id="stream-string-true"),
    pytest.param("stream", 1, id="stream-int"),
    pytest.param("partial_images", False, id="partial-images-bool"),
    pytest.param("output_compression", "50", id="compression-string"),
])
def test_a_json_scalar_of_the_wrong_type_is_a_400_naming_it(route: str, field: str, value: Any) -> None:
    # Given a JSON body whose scalar field holds another JSON type than its own
    sample, parse, payload = PARSERS[route]
    body = payload(**{field: value, "output_format": "jpeg"})

    # When it is parsed
    with pytest.raises(InvalidRequest) as refused:
        parse(_json(sample, body), MAX_BYTES)

    # Then it is a 400 invalid_value naming the field (OpenAI answers 400; it used to be taken as n=1, n=2, stream)
    assert (refused.value.status_code, refused.value.code, refused.value.param) == (400, "invalid_value", field)


def test_an_upload_size_of_the_wrong_type_is_a_400_naming_it() -> None:
    body = {"filename": "a.png", "mime_type": "image/png", "bytes": "1024"}
    with pytest.raises(InvalidRequest) as refused:
        parse_upload(_json("create_upload.json", body), MAX_BYTES)
    assert (refused.value.code, refused.value.param) == ("invalid_value", "bytes")


@pytest.mark.parametrize("route", sorted(PARSERS))
def test_json_scalars_of_their_own_type_are_taken(route: str) -> None:
    sample, parse, payload = PARSERS[route]
    request = parse(_json(sample, payload(n=2, stream=True, partial_images=1, output_format="webp",
                                          output_compression=50)), MAX_BYTES)
    assert (request.n, request.stream, request.partial_images, request.output_compression) == (2, True, 1, 50)


def test_a_multipart_form_keeps_its_string_fields_lenient() -> None:
    # Given a multipart edit as the openai SDK sends it: every field a string
    form = [file_part("image[]", png()), ("prompt", "make it dusk"), ("n", "2"), ("stream", "true"),
            ("partial_images", "1"), ("output_format", "webp"), ("output_compression", "50")]

    # When it is parsed, then the strings are read as the fields' types
    request = parse_edit(_form(form), MAX_BYTES)
    assert (request.n, request.stream, request.partial_images, request.output_compression) == (2, True, 1, 50)


@pytest.mark.parametrize(("images", "mask", "param"), [
    pytest.param([{"width": -1, "height": 10**12}], None, "images[0].width", id="declared-size-out-of-range"),
    pytest.param([{"width": 1024, "height": 1e12}], None, "images[0].height", id="declared-size-not-an-int"),
    pytest.param([{"width": 1024, "height": 1024}], {"width": 0, "height": 1024}, "mask.width", id="mask-size"),
    pytest.param([{"file_id": 7}], None, "images[0].file_id", id="file-id-not-a-string"),
    pytest.param([{"image_url": ""}], None, "images[0].image_url", id="empty-image-url"),
])
def test_a_quoted_image_present_but_invalid_is_invalid_not_missing(images: list[Any], mask: Any, param: str) -> None:
    # Given a quote whose image is given, but with a value that cannot be
    body = generation_payload(images=images, **({"mask": mask} if mask is not None else {}))

    # When it is parsed
    with pytest.raises(InvalidRequest) as refused:
        parse_quote(_json("create_quote.json", body), MAX_BYTES)

    # Then it is invalid_value naming the field (it used to be "Missing required parameter: 'image[0]'")
    assert (refused.value.code, refused.value.param) == ("invalid_value", param)
    assert "Missing" not in refused.value.message


def test_an_edits_image_present_but_invalid_is_invalid_not_missing() -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_edit(_json("edit_json.json", edit_payload(images=[{"image_url": ""}])), MAX_BYTES)
    assert (refused.value.code, refused.value.param) == ("invalid_value", "images[0].image_url")


def test_a_quoted_image_missing_a_side_names_it() -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_quote(_json("create_quote.json", generation_payload(images=[{"width": 1024}])), MAX_BYTES)
    assert (refused.value.code, refused.value.param) == ("missing_required_parameter", "images[0].height")
