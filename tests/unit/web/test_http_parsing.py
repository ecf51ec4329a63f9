"""HTTP plumbing below the routes: Prefer, multipart, body size (the caller's account: test_route_auth.py)."""

from __future__ import annotations

import base64

import pytest

from retouch.errors import InvalidRequest, PayloadTooLarge
from retouch.web.multipart import boundary_of, parse_multipart
from retouch.web.prefer import requested_wait
from retouch.web.request_parsing import raw_body
from tests.builders import file_part, load_event, multipart, multipart_content_type, png

# -- Prefer: wait -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("header", "expected"), [
    pytest.param(None, 300.0, id="absent-holds-the-maximum"),
    pytest.param("wait=10", 10.0, id="explicit-wait"),
    pytest.param("respond-async", None, id="async-opts-out"),
    pytest.param("respond-async, wait=3", 3.0, id="async-with-wait"),
    pytest.param("return=minimal", 300.0, id="other-preference"),
    # A malformed wait is ignored (RFC 7240): the entry holds its default, not 202 at once.
    pytest.param("wait=abc", 300.0, id="malformed-wait-holds"),
    pytest.param("wait=-1", 300.0, id="negative-wait-holds"),
    pytest.param("wait=nan", 300.0, id="not-finite-wait-holds"),
    pytest.param("wait=0", 0.0, id="zero-wait-answers-at-once"),
    pytest.param("respond-async, wait=abc", None, id="async-with-malformed-wait"),
])
def test_the_synchronous_entry_waits_unless_told_otherwise(header: str | None, expected: float | None) -> None:
    assert requested_wait(header, 300, wait_by_default=True) == expected


@pytest.mark.parametrize(("header", "expected"), [
    pytest.param(None, None, id="absent"),
    pytest.param("", None, id="empty"),
    pytest.param("wait=5", 5.0, id="wait-5"),
    pytest.param("wait=0", 0.0, id="wait-0"),
    pytest.param("wait=2.5", 2.5, id="fractional"),
    pytest.param("wait=600", 25.0, id="capped-at-max"),
    pytest.param("wait=-3", None, id="negative-is-ignored"),
    pytest.param("wait=inf", None, id="infinite-is-ignored"),
    pytest.param("wait", 25.0, id="bare-wait-means-max"),
    pytest.param('wait="7"', 7.0, id="quoted"),
    pytest.param("WAIT = 4", 4.0, id="case-and-spaces"),
    pytest.param("respond-async, wait=3", 3.0, id="second-preference"),
    pytest.param("wait=3; foo=bar", 3.0, id="with-parameter"),
    pytest.param("return=minimal", None, id="other-preference"),
    pytest.param("wait=soon", None, id="not-a-number"),
    pytest.param("waiting=3", None, id="similar-token"),
])
def test_requested_wait(header: str | None, expected: float | None) -> None:
    # Given a Prefer header and a 25 s cap
    # When it is read
    wait = requested_wait(header, 25)

    # Then the hold is as RFC 7240 asks, never above the cap
    assert wait == expected


# -- multipart/form-data --------------------------------------------------------------------------------


def test_multipart_is_binary_safe_and_keeps_repeated_parts_in_order() -> None:
    # Given two binary files containing CRLFs, dashes and the boundary's prefix, under repeated image[]
    tricky = b"\x00\r\n--retouch\r\n\r\n\xff" + bytes(range(256))
    body = multipart([file_part("image[]", tricky, "a.bin", "application/octet-stream"),
                      file_part("image[]", png(), "b.png"), ("prompt", "héllo")])

    # When it is parsed
    parts = parse_multipart(body, multipart_content_type())

    # Then every byte survives, in order, with names and filenames
    assert [(p.name, p.filename, p.is_file) for p in parts] == [
        ("image[]", "a.bin", True), ("image[]", "b.png", True), ("prompt", None, False)]
    assert parts[0].data == tricky and parts[1].data == png()
    assert parts[0].content_type == "application/octet-stream"
    assert parts[2].data.decode() == "héllo"


def test_multipart_reads_rfc2231_filename_star() -> None:
    # Given a part whose filename is sent RFC 2231-encoded (non-ASCII)
    body = (b"--b\r\nContent-Disposition: form-data; name=\"image\"; filename*=UTF-8''%C3%A9t%C3%A9.png\r\n"
            b"Content-Type: image/png\r\n\r\n" + png() + b"\r\n--b--\r\n")

    # When it is parsed
    [part] = parse_multipart(body, "multipart/form-data; boundary=b")

    # Then the filename is decoded
    assert part.filename == "été.png" and part.data == png()


def test_multipart_quoted_boundary_and_empty_filename() -> None:
    # Given a quoted boundary and a file part with an empty filename
    body = b'--a b\r\nContent-Disposition: form-data; name="mask"; filename=""\r\n\r\nxyz\r\n--a b--'

    # When it is parsed
    [part] = parse_multipart(body, 'multipart/form-data; boundary="a b"')

    # Then the part is still a file (filename present, even if empty)
    assert part.is_file and part.filename == "" and part.data == b"xyz"


def test_multipart_ignores_preamble_and_epilogue() -> None:
    # Given text before the first boundary and after the last one
    body = b"preamble\r\n--b\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\n2\r\n--b--\r\nepilogue"

    # When it is parsed
    [part] = parse_multipart(body, "multipart/form-data; boundary=b")

    # Then only the part is read
    assert (part.name, part.data) == ("n", b"2")


@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; charset=utf-8"])
def test_missing_boundary_is_invalid_multipart(content_type: str) -> None:
    # Given a multipart content type without a boundary
    # When its boundary is asked for
    with pytest.raises(InvalidRequest) as caught:
        boundary_of(content_type)

    # Then it is a 400 invalid_multipart
    assert (caught.value.status_code, caught.value.code) == (400, "invalid_multipart")


# -- Body size ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoded", [False, True], ids=["plain", "base64"])
def test_body_exactly_at_the_cap_is_read(encoded: bool) -> None:
    # Given a body of exactly max_bytes
    data = b"x" * 1000
    event = {"body": base64.b64encode(data).decode() if encoded else data.decode(), "isBase64Encoded": encoded}

    # When it is read
    # Then all bytes come back
    assert raw_body(event, 1000) == data


@pytest.mark.parametrize("encoded", [False, True], ids=["plain", "base64"])
def test_body_one_byte_over_the_cap_is_413(encoded: bool) -> None:
    # Given a body of max_bytes + 1
    data = b"x" * 1001
    event = {"body": base64.b64encode(data).decode() if encoded else data.decode(), "isBase64Encoded": encoded}

    # When it is read
    with pytest.raises(PayloadTooLarge) as caught:
        raw_body(event, 1000)

    # Then it is a 413 payload_too_large
    assert (caught.value.status_code, caught.value.code) == (413, "payload_too_large")


def test_grossly_oversized_base64_is_refused_before_decoding() -> None:
    # Given a base64 body far beyond the cap that is not even valid base64
    event = {"body": "!" * 5000, "isBase64Encoded": True}

    # When it is read
    # Then it is refused by length alone (decoding would have raised a different error)
    with pytest.raises(PayloadTooLarge):
        raw_body(event, 1000)


@pytest.mark.parametrize("route", ["generation.json", "edit_json.json"])
def test_pathologically_nested_json_is_a_400_not_a_crash(route: str) -> None:
    # Given a 10 KB body nested 5,000 levels deep (json.loads raises RecursionError, not ValueError)
    from retouch.web.request_parsing import parse_edit, parse_generation

    event = load_event(route)
    event["body"] = '{"prompt": "x", "metadata": ' + "[" * 5000 + "]" * 5000 + "}"
    event["isBase64Encoded"] = False
    parse = parse_generation if route == "generation.json" else parse_edit

    # When it is parsed, Then it is refused as invalid JSON
    with pytest.raises(InvalidRequest) as refused:
        parse(event, max_bytes=1024 * 1024)
    assert refused.value.code == "invalid_json"


# -- POST /v1/uploads ---------------------------------------------------------------------------------


def test_the_sample_upload_request_parses() -> None:
    from retouch.web.request_parsing import parse_upload

    request = parse_upload(load_event("create_upload.json"), max_bytes=1024 * 1024)
    assert (request.filename, request.bytes, request.mime_type, request.purpose) == (
        "photo.jpg", 20 * 1024 * 1024, "image/jpeg", "vision")


@pytest.mark.parametrize(("change", "param", "code"), [
    pytest.param({"bytes": 50 * 1024 * 1024 + 1}, "bytes", "invalid_value", id="over-50-MB"),
    pytest.param({"bytes": 0}, "bytes", "invalid_value", id="empty"),
    pytest.param({"mime_type": "image/gif"}, "mime_type", "invalid_value", id="gif"),
    pytest.param({"filename": ""}, "filename", "invalid_value", id="no-name"),
    pytest.param({"purpose": "fine-tune"}, "purpose", "invalid_value", id="purpose"),
    pytest.param({"bytes": None}, "bytes", "missing_required_parameter", id="no-size"),
    pytest.param({"url": "https://x"}, "url", "unknown_parameter", id="unknown"),
])
def test_an_upload_request_breaking_a_rule_is_a_400_naming_it(change: dict, param: str, code: str) -> None:
    import json

    from retouch.web.request_parsing import parse_upload

    # Given the sample upload request with one field changed (None: removed)
    event = load_event("create_upload.json")
    body = {**json.loads(event["body"]), **change}
    event["body"] = json.dumps({k: v for k, v in body.items() if v is not None})

    # When it is parsed, Then it is a 400 naming the field
    with pytest.raises(InvalidRequest) as refused:
        parse_upload(event, max_bytes=1024 * 1024)
    assert (refused.value.param, refused.value.code) == (param, code)


def test_the_sample_edit_naming_files_parses_to_file_references() -> None:
    from retouch.models.requests import FileRef
    from retouch.web.request_parsing import parse_edit

    request = parse_edit(load_event("edit_json_files.json"), max_bytes=1024 * 1024)
    assert all(isinstance(image, FileRef) for image in request.images) and isinstance(request.mask, FileRef)
    assert [image.file_id for image in request.images] == ["file_SAMPLE000000000000000000",
                                                           "file_SAMPLE111111111111111111"]
