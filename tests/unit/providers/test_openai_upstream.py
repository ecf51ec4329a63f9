"""The OpenAI upstream (the OpenAI images wire format, OpenAI's dialect) over httpx.MockTransport: request shapes,
response parsing, error mapping; and the one `retry-after-ms` rule for every dialect of that wire format."""

from __future__ import annotations

import base64
import email.utils
import json
import time
from collections.abc import Callable
from email import policy
from email.parser import BytesParser
from typing import Any

import httpx
import pytest

from retouch.providers.aiml import aiml_upstream
from retouch.providers.azure_openai import azure_openai_upstream
from retouch.providers.base import (
    InputImage,
    ProviderImage,
    ProviderRefused,
    ProviderResult,
    ProviderUnavailable,
)
from retouch.providers.openai import openai_upstream
from retouch.providers.openai_images import OpenAIImagesUpstream
from retouch.providers.upstream import Finished
from tests.unit.providers.replay import PUBLIC_OUTPUTS, requested_url

API_KEY = "sk-test-0123456789abcdef"
BASE_URL = "https://images.provider.test/v1"
PNG = b"\x89PNG\r\n\x1a\n" + b"png-pixels"
JPEG = b"\xff\xd8\xff\xe0" + b"jpeg-pixels"
WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"webp"


def ok_body(*images: bytes, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "created": 1_700_000_000,
        "data": [{"b64_json": base64.b64encode(image).decode()} for image in images],
        "usage": {"total_tokens": 100, "input_tokens": 40, "output_tokens": 60},
    }
    body.update(extra)
    return body


class Provider:
    """The adapter, called as the worker does (`submit`), answering the result of a finished call."""

    def __init__(self, adapter: OpenAIImagesUpstream) -> None:
        self.adapter = adapter

    def edit(self, *, images: list[InputImage], mask: InputImage | None, options: dict[str, Any]) -> ProviderResult:
        outcome = self.adapter.submit(images=images, mask=mask, options=options)
        assert isinstance(outcome, Finished)
        return outcome.result

    def generate(self, *, options: dict[str, Any]) -> ProviderResult:
        return self.edit(images=[], mask=None, options=options)


def provider(base_url: str, client: httpx.Client) -> Provider:
    return Provider(openai_upstream(api_key=API_KEY, timeout_seconds=30.0, base_url=base_url, client=client,
                                    outputs=PUBLIC_OUTPUTS))


def provider_with(
    handler: Callable[[httpx.Request], httpx.Response],
) -> tuple[Provider, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        request.read()
        seen.append(request)
        return handler(request)

    client = httpx.Client(transport=httpx.MockTransport(record))
    return provider(BASE_URL, client), seen


def multipart(request: httpx.Request) -> list[tuple[str, str | None, str, bytes]]:
    """(name, filename, content type, payload) for each part, in order."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=policy.default).parsebytes(head + request.content)
    return [
        (
            part.get_param("name", header="content-disposition"),
            part.get_filename(),
            part.get_content_type(),
            part.get_payload(decode=True),
        )
        for part in message.iter_parts()
    ]


def images(*payloads: bytes) -> list[InputImage]:
    types = {PNG: "image/png", JPEG: "image/jpeg", WEBP: "image/webp"}
    return [InputImage(data=p, content_type=types[p], filename=f"in{i}") for i, p in enumerate(payloads)]


def error(status: int, code: str | None = None, message: str = "nope", headers: dict[str, str] | None = None):
    body = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}
    return lambda request: httpx.Response(status, json=body, headers=headers)


# -- Request shape ---------------------------------------------------------------------------


def test_edit_posts_multipart_with_repeated_image_parts_mask_and_fields() -> None:
    # Given a provider answering with one image
    provider, seen = provider_with(lambda request: httpx.Response(200, json=ok_body(PNG, output_format="png")))

    # When editing two images with a mask
    provider.edit(
        images=images(PNG, JPEG),
        mask=InputImage(data=PNG, content_type="image/png", filename="mask.png"),
        options={
            "model": "gpt-image-2",
            "prompt": "add a hat",
            "n": 2,
            "size": "1024x1536",
            "quality": None,
            "output_compression": 80,
            "background": "auto",
        },
    )

    # Then one multipart POST carries image[] twice, the mask, and the non-None fields as strings
    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == f"{BASE_URL}/images/edits"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    parts = multipart(request)
    files = [(name, filename, ctype, data) for name, filename, ctype, data in parts if filename]
    assert files == [
        ("image[]", "in0.png", "image/png", PNG),
        ("image[]", "in1.jpg", "image/jpeg", JPEG),
        ("mask", "mask.png", "image/png", PNG),
    ]
    fields = {name: data.decode() for name, filename, _, data in parts if filename is None}
    assert fields == {
        "model": "gpt-image-2",
        "prompt": "add a hat",
        "n": "2",
        "size": "1024x1536",
        "output_compression": "80",
        "background": "auto",
    }


def test_edit_without_mask_sends_no_mask_part() -> None:
    provider, seen = provider_with(lambda request: httpx.Response(200, json=ok_body(PNG)))
    provider.edit(images=images(WEBP), mask=None, options={"prompt": "p"})
    names = [name for name, *_ in multipart(seen[0])]
    assert sorted(names) == ["image[]", "prompt"]


def test_generate_posts_json_without_none_values() -> None:
    provider, seen = provider_with(lambda request: httpx.Response(200, json=ok_body(PNG, PNG)))
    provider.generate(options={"model": "gpt-image-2", "prompt": "a fox", "n": 2, "size": None, "moderation": "low"})
    (request,) = seen
    assert str(request.url) == f"{BASE_URL}/images/generations"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert json.loads(request.content) == {"model": "gpt-image-2", "prompt": "a fox", "n": 2, "moderation": "low"}


def test_trailing_slash_in_base_url_is_tolerated() -> None:
    seen: list[httpx.Request] = []
    client = httpx.Client(
        transport=httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200, json=ok_body(PNG)))
    )
    provider(BASE_URL + "/", client).generate(options={"prompt": "x"})
    assert str(seen[0].url) == f"{BASE_URL}/images/generations"


# -- Response parsing ------------------------------------------------------------------------


def test_response_is_parsed_into_a_provider_result() -> None:
    body = ok_body(WEBP, WEBP, size="1536x1024", quality="medium", background="opaque", output_format="webp")
    provider, _ = provider_with(lambda request: httpx.Response(200, json=body))

    result = provider.generate(options={"prompt": "x", "n": 2, "output_format": "webp"})

    assert result == ProviderResult(
        images=[ProviderImage(WEBP, "image/webp"), ProviderImage(WEBP, "image/webp")],
        usage={"total_tokens": 100, "input_tokens": 40, "output_tokens": 60},
        size="1536x1024",
        quality="medium",
        background="opaque",
        output_format="webp",
    )


@pytest.mark.parametrize(
    ("response_format", "option_format", "expected"),
    [("jpeg", None, "image/jpeg"), (None, "webp", "image/webp"), (None, None, "image/png")],
)
def test_content_type_follows_output_format_when_bytes_are_unrecognised(
    response_format: str | None, option_format: str | None, expected: str
) -> None:
    extra = {"output_format": response_format} if response_format else {}
    provider, _ = provider_with(lambda request: httpx.Response(200, json=ok_body(b"opaque-bytes", **extra)))
    result = provider.generate(options={"prompt": "x", "output_format": option_format})
    assert result.images[0].content_type == expected


def test_url_only_images_are_downloaded_without_the_api_key() -> None:
    # Given a response that links the image instead of embedding it
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/images/generations"):
            return httpx.Response(200, json={"created": 1, "data": [{"url": "https://blobs.test/img/1.png"}]})
        return httpx.Response(200, content=PNG)

    provider, seen = provider_with(handler)

    # When
    result = provider.generate(options={"prompt": "x"})

    # Then the bytes are fetched with the same client, and the key does not travel to the blob host
    assert result.images == [ProviderImage(PNG, "image/png")]
    assert requested_url(seen[1]) == "https://blobs.test/img/1.png"
    assert "authorization" not in seen[1].headers
    assert result.usage == {}


def test_url_download_failure_is_a_bad_response() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"created": 1, "data": [{"url": "https://blobs.test/gone.png"}]})
        return httpx.Response(404)

    provider, _ = provider_with(handler)
    with pytest.raises(ProviderUnavailable) as excinfo:
        provider.generate(options={"prompt": "x"})
    assert excinfo.value.code == "provider_bad_response"


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, content=b"<html>oops</html>"),
        httpx.Response(200, json=["not", "an", "object"]),
        httpx.Response(200, json={"created": 1}),
        httpx.Response(200, json={"created": 1, "data": []}),
        httpx.Response(200, json={"created": 1, "data": ["x"]}),
        httpx.Response(200, json={"created": 1, "data": [{}]}),
        httpx.Response(200, json={"created": 1, "data": [{"b64_json": "%%% not base64 %%%"}]}),
        httpx.Response(200, json={"created": 1, "data": [{"b64_json": ""}]}),
        httpx.Response(200, json={"created": 1, "data": [{"url": "ftp://blobs.test/a.png"}]}),
    ],
)
def test_malformed_success_bodies_are_bad_responses(response: httpx.Response) -> None:
    provider, _ = provider_with(lambda request: response)
    with pytest.raises(ProviderUnavailable) as excinfo:
        provider.generate(options={"prompt": "x"})
    assert excinfo.value.code == "provider_bad_response"


# -- Error mapping ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "expected_code"),
    [
        (400, "moderation_blocked", "moderation_blocked"),
        (400, "content_policy_violation", "content_policy_violation"),
        (400, "invalid_image_format", "invalid_image_format"),
        (400, None, "provider_rejected_request"),
        (404, "model_not_found", "model_not_found"),
        (422, None, "provider_rejected_request"),
        (413, None, "provider_rejected_request"),
    ],
)
def test_client_errors_are_refusals_with_the_provider_code(status: int, code: str | None, expected_code: str) -> None:
    # Given the provider rejects the request
    provider, _ = provider_with(error(status, code, message="Your request was rejected by the safety system."))

    # When / Then a permanent refusal carries the provider's code and message
    with pytest.raises(ProviderRefused) as excinfo:
        provider.edit(images=images(PNG), mask=None, options={"prompt": "x"})
    assert excinfo.value.code == expected_code
    assert excinfo.value.message == "Your request was rejected by the safety system."


def test_refusal_without_an_error_body_gets_a_generic_message() -> None:
    provider, _ = provider_with(lambda request: httpx.Response(400, content=b"bad"))
    with pytest.raises(ProviderRefused) as excinfo:
        provider.generate(options={"prompt": "x"})
    assert excinfo.value.code == "provider_rejected_request"
    assert "400" in excinfo.value.message


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failures_are_unavailable_and_never_echo_the_key(status: int) -> None:
    provider, _ = provider_with(error(status, "invalid_api_key", message=f"Incorrect API key provided: {API_KEY}."))
    with pytest.raises(ProviderUnavailable) as excinfo:
        provider.generate(options={"prompt": "x"})
    assert excinfo.value.code == "provider_auth_failed"
    assert API_KEY not in str(excinfo.value) and API_KEY not in excinfo.value.message


def test_provider_messages_are_redacted_of_the_key() -> None:
    provider, _ = provider_with(error(400, "invalid_request", message=f"bad key {API_KEY} in request"))
    with pytest.raises(ProviderRefused) as excinfo:
        provider.generate(options={"prompt": "x"})
    assert API_KEY not in excinfo.value.message
    assert "***" in excinfo.value.message


@pytest.mark.parametrize(
    ("status", "headers", "expected_code", "expected_retry_after"),
    [
        (429, {"Retry-After": "7"}, "provider_rate_limited", 7.0),
        (429, {"retry-after-ms": "1500", "Retry-After": "9"}, "provider_rate_limited", 1.5),
        (429, {}, "provider_rate_limited", None),
        (408, {}, "provider_retry_later", None),
        (409, {"Retry-After": "2"}, "provider_retry_later", 2.0),
        (425, {}, "provider_retry_later", None),
        (500, {}, "provider_error", None),
        (502, {"Retry-After": "3"}, "provider_error", 3.0),
        (503, {"Retry-After": "junk"}, "provider_error", None),
        (504, {}, "provider_error", None),
    ],
)
def test_transient_statuses_are_unavailable_with_retry_after(
    status: int, headers: dict[str, str], expected_code: str, expected_retry_after: float | None
) -> None:
    provider, _ = provider_with(error(status, headers=headers))
    with pytest.raises(ProviderUnavailable) as excinfo:
        provider.edit(images=images(PNG), mask=None, options={"prompt": "x"})
    assert excinfo.value.code == expected_code
    assert excinfo.value.retry_after == expected_retry_after


def test_retry_after_as_http_date() -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    provider, _ = provider_with(error(429, headers={"Retry-After": when}))
    with pytest.raises(ProviderUnavailable) as excinfo:
        provider.generate(options={"prompt": "x"})
    assert excinfo.value.retry_after is not None
    assert 25 <= excinfo.value.retry_after <= 31


def test_unexpected_status_is_a_bad_response() -> None:
    provider, _ = provider_with(lambda request: httpx.Response(302, headers={"Location": "/elsewhere"}))
    with pytest.raises(ProviderUnavailable) as excinfo:
        provider.generate(options={"prompt": "x"})
    assert excinfo.value.code == "provider_bad_response"


@pytest.mark.parametrize(
    ("exception", "expected_code"),
    [
        (httpx.ReadTimeout, "provider_timeout"),
        (httpx.ConnectTimeout, "provider_timeout"),
        (httpx.PoolTimeout, "provider_timeout"),
        (httpx.ConnectError, "provider_connection_error"),
        (httpx.ReadError, "provider_connection_error"),
        (httpx.RemoteProtocolError, "provider_connection_error"),
    ],
)
def test_transport_failures_are_unavailable(exception: type[httpx.TransportError], expected_code: str) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise exception("boom", request=request)

    provider, _ = provider_with(fail)
    with pytest.raises(ProviderUnavailable) as excinfo:
        provider.edit(images=images(PNG), mask=None, options={"prompt": "x"})
    assert excinfo.value.code == expected_code
    assert API_KEY not in excinfo.value.message


# -- One wire format, one HTTP stack: every dialect waits as the upstream asks ----------------------------------

DIALECTS: dict[str, Callable[[httpx.Client], OpenAIImagesUpstream]] = {
    "openai": lambda client: openai_upstream(api_key=API_KEY, timeout_seconds=5.0, base_url=BASE_URL, client=client),
    "azure_openai": lambda client: azure_openai_upstream(endpoint="https://my-resource.openai.azure.com",
                                                         deployment="gpt-image-2", api_key=API_KEY,
                                                         timeout_seconds=5.0, client=client),
    "aiml": lambda client: aiml_upstream(api_key=API_KEY, timeout_seconds=5.0, client=client),
}


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "1500", "retry-after": "2"}, 1.5),  # Azure OpenAI sends both: the precise one wins
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "soon", "retry-after": "4"}, 4.0),  # an unreadable one falls back to Retry-After
        ({"retry-after": "-3"}, 0.0),
    ],
)
def test_every_dialect_honours_retry_after_ms_then_retry_after(
    dialect: str, headers: dict[str, str], expected: float
) -> None:
    # Given an upstream of this dialect answering 429 with its wait
    client = httpx.Client(transport=httpx.MockTransport(error(429, "rate_limit_exceeded", headers=headers)))
    adapter = DIALECTS[dialect](client)

    # When a job is submitted
    with pytest.raises(ProviderUnavailable) as excinfo:
        adapter.submit(images=images(PNG), mask=None, options={"prompt": "x"})

    # Then the retry waits what the headers say, by the same rule whichever dialect answered
    assert (excinfo.value.code, excinfo.value.retry_after) == ("provider_rate_limited", expected)


def test_openai_sends_the_clients_model_name_as_asked() -> None:
    # Given the OpenAI dialect (every field passes, `model` too)
    provider_, seen = provider_with(lambda request: httpx.Response(200, json=ok_body(PNG)))

    # When a client asked for a dated snapshot
    provider_.generate(options={"model": "gpt-image-2-2026-04-21", "prompt": "x"})

    # Then OpenAI receives that name, not the catalog's
    assert json.loads(seen[0].content)["model"] == "gpt-image-2-2026-04-21"


def test_a_call_reports_the_request_id_as_the_upstream_job_id() -> None:
    client = httpx.Client(transport=httpx.MockTransport(
        lambda request: httpx.Response(200, json=ok_body(PNG), headers={"x-request-id": "req_123"})))
    outcome = DIALECTS["openai"](client).submit(images=[], mask=None, options={"prompt": "x"})
    assert isinstance(outcome, Finished) and outcome.upstream_job_id == "req_123"
