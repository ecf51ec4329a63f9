"""A quote checked as its submit is (jobs/quote.py over jobs/request_checks.py): parse_quote + quote_request on fakes
answer the 400 the edit or generation of the same body answers (code and param), and what only a quote has (an image
declared by its size) is checked for what a size can tell; a quote that passes is priced, nothing written."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import pytest

from retouch.errors import RetouchError
from retouch.files.uploads import FileDeps, create_upload
from retouch.jobs.quote import QuoteDeps, quote_request
from retouch.jobs.submit import SubmitDeps
from retouch.models.quotes import QuoteView
from retouch.models.requests import UploadRequest
from retouch.web.request_parsing import parse_quote
from retouch.webhooks.subscribe import WebhookSubscriber
from tests.builders import data_url, json_event, mask_png, new_account_id, png
from tests.fakes import FakeFileRepository, FakeJobQueue, FakeJobRepository, FakeObjectStore
from tests.fakes.webhooks import FakeSettings
from tests.quote_refusals import IMAGE_URL, LARGE, REFUSED_AS_SUBMITTED
from tests.unit.jobs.submitting import assert_nothing_left, refused

MAX_BODY = 64 * 1024 * 1024


@pytest.fixture
def account_id() -> str:
    return new_account_id()


@pytest.fixture
def webhooks() -> WebhookSubscriber:
    """The api's subscriber over an account with no webhook settings (no URL is resolved: each refused earlier)."""
    return WebhookSubscriber(settings=FakeSettings())


@pytest.fixture
def quote_deps(submit_deps: SubmitDeps, webhooks: WebhookSubscriber) -> QuoteDeps:
    """As the api wires it: the submit's own collaborators (wiring/api.py quote_routes)."""
    return QuoteDeps(prices=submit_deps.billing.prices, files=submit_deps.files, store=submit_deps.store,
                     webhook_for=webhooks, upstream_support=submit_deps.upstream_support)


def quoted(deps: QuoteDeps, account_id: str, body: dict[str, Any]) -> QuoteView:
    event = json_event("create_quote.json", body, account_id=account_id)
    return quote_request(account_id, parse_quote(event, MAX_BODY), deps)


def quote_refusal(deps: QuoteDeps, account_id: str, body: dict[str, Any]) -> RetouchError:
    with pytest.raises(RetouchError) as caught:
        quoted(deps, account_id, body)
    return caught.value


def body_of(**fields: Any) -> dict[str, Any]:
    return {"model": "gpt-image-2", "prompt": "make it dusk", **fields}


@pytest.mark.parametrize(("sample", "fields"), REFUSED_AS_SUBMITTED)
def test_a_quote_answers_the_400_its_submit_answers(sample: str, fields: dict[str, Any], quote_deps: QuoteDeps,
                                                    webhooks: WebhookSubscriber, submit_deps: SubmitDeps,
                                                    jobs: FakeJobRepository, store: FakeObjectStore,
                                                    queue: FakeJobQueue, account_id: str) -> None:
    # Given a body its submit refuses (the api's webhook subscriber included)
    body = body_of(**fields)
    deps = replace(submit_deps, webhook_for=webhooks)
    submitted = refused(json_event(sample, body, account_id=account_id), deps, account_id)

    # When the same body is quoted
    refusal = quote_refusal(quote_deps, account_id, body)

    # Then the quote is refused alike, with a message that names the param, and nothing is written
    assert submitted.status_code == 400
    assert (refusal.status_code, refusal.code, refusal.param) == (400, submitted.code, submitted.param)
    assert "None" not in refusal.message
    assert_nothing_left(jobs, store, queue)


@pytest.mark.parametrize(("fields", "code", "param"), [
    pytest.param({"images": [{"width": 1024, "height": 1024}], "mask": {"image_url": data_url(mask_png(1, 1))}},
                 "invalid_mask", "mask", id="1x1-mask-for-a-declared-1024x1024-image"),
    pytest.param({"images": [{"width": 1024, "height": 1024}], "mask": {"width": 1, "height": 1}},
                 "invalid_mask", "mask", id="declared-1x1-mask-for-a-declared-image"),
    pytest.param({"images": [{"image_url": LARGE}], "mask": {"width": 1024, "height": 1536}},
                 "invalid_mask", "mask", id="declared-mask-for-a-data-url-image"),
    pytest.param({"images": [{"width": 100_000, "height": 100_000}]}, "image_too_large", "image[0]",
                 id="declared-image-past-the-pixel-cap"),
    pytest.param({"mask": {"width": 64, "height": 64}}, "missing_required_parameter", "images",
                 id="mask-without-images"),
    pytest.param({"images": [{"width": 64, "height": 64, "image_url": IMAGE_URL}]}, "unknown_parameter", "image[0]",
                 id="size-beside-a-reference"),
    pytest.param({"images": [{"width": 0, "height": 64}]}, "invalid_value", "images[0].width", id="bad-side"),
])
def test_a_declared_size_is_checked_for_what_a_size_can_tell(fields: dict[str, Any], code: str, param: str,
                                                             quote_deps: QuoteDeps, account_id: str) -> None:
    # When a quote declares an image or the mask by its size alone, and the size cannot be what the edit takes
    refusal = quote_refusal(quote_deps, account_id, body_of(**fields))

    # Then it is the 400 the edit would answer once it had the image, naming the same param
    assert (refusal.status_code, refusal.code, refusal.param) == (400, code, param), refusal.message


@pytest.mark.parametrize("fields", [
    pytest.param({"images": [{"width": 1024, "height": 1024}], "mask": {"width": 1024, "height": 1024}},
                 id="declared-image-and-mask"),
    pytest.param({"images": [{"image_url": data_url(png(96, 64))}], "mask": {"image_url": data_url(mask_png())}},
                 id="data-url-image-and-mask"),
    pytest.param({"images": [{"image_url": IMAGE_URL}], "mask": {"width": 5, "height": 7}},
                 id="mask-for-a-url-image-unknown-until-fetched"),
    pytest.param({"images": [{"image_url": IMAGE_URL}] * 16}, id="16-images"),
    pytest.param({}, id="generation"),
])
def test_a_quote_its_submit_would_accept_is_priced(fields: dict[str, Any], quote_deps: QuoteDeps,
                                                  jobs: FakeJobRepository, store: FakeObjectStore,
                                                  queue: FakeJobQueue, account_id: str) -> None:
    # When a body the edit or generation accepts is quoted
    view = quoted(quote_deps, account_id, body_of(**fields))

    # Then it is priced, and nothing is written
    assert view.hold_micros >= view.expected_micros > 0
    assert view.input_images == len(fields.get("images", [])) + ("mask" in fields)
    assert_nothing_left(jobs, store, queue)


def test_an_uploaded_file_is_checked_as_the_edit_checks_it_and_priced_by_its_size(
        quote_deps: QuoteDeps, files: FakeFileRepository, store: FakeObjectStore, account_id: str) -> None:
    # Given a 1536x1024 upload of this account, and the same quoted by URL (the most an image can count)
    uploads = FileDeps(files=files, store=store, expiry_seconds=3600, upload_url_seconds=300)
    data = png(1536, 1024)
    created = create_upload(account_id, UploadRequest(filename="f.png", bytes=len(data), mime_type="image/png"),
                            uploads)
    store.put(created.upload.fields["key"], data, "image/png")

    # When the quote names it, and then another account quotes it
    by_file = quoted(quote_deps, account_id, body_of(images=[{"file_id": created.id}]))
    by_url = quoted(quote_deps, account_id, body_of(images=[{"image_url": IMAGE_URL}]))
    stranger = quote_refusal(quote_deps, new_account_id(), body_of(images=[{"file_id": created.id}]))

    # Then it is priced by its size as read, below the most an image counts; to another account it does not exist
    assert 0 < by_file.hold["input_image_tokens"] < by_url.hold["input_image_tokens"]
    assert (stranger.code, stranger.param) == ("file_not_found", "images[0].file_id")  # as the edit names it


def test_a_pending_upload_is_refused_as_the_edit_refuses_it(quote_deps: QuoteDeps, files: FakeFileRepository,
                                                          store: FakeObjectStore, account_id: str) -> None:
    # Given an upload whose bytes were never sent
    uploads = FileDeps(files=files, store=store, expiry_seconds=3600, upload_url_seconds=300)
    created = create_upload(account_id, UploadRequest(filename="f.png", bytes=100, mime_type="image/png"), uploads)

    # When it is quoted, then 400 file_not_ready naming it
    refusal = quote_refusal(quote_deps, account_id, body_of(images=[{"file_id": created.id}]))
    assert (refusal.code, refusal.param) == ("file_not_ready", "images[0].file_id")


@pytest.mark.parametrize(("fields", "param"), [
    pytest.param({"images": [{"image_url": LARGE}], "mask": {"image_url": data_url(mask_png(1, 1))},
                  "webhook_url": "http://x"}, "mask", id="bad-mask-and-bad-webhook-the-mask-first"),
    pytest.param({"images": [{"image_url": LARGE}], "webhook_url": "http://x"}, "webhook_url",
                 id="good-images-bad-webhook"),
])
def test_the_webhook_checked_beside_the_images_is_still_refused_after_them(
        fields: dict[str, Any], param: str, quote_deps: QuoteDeps, account_id: str) -> None:
    # When a body has a refused webhook URL, with or without a refused image (the webhook's read runs beside the
    # image checks)
    threads = threading.active_count()
    refusal = quote_refusal(quote_deps, account_id, body_of(**fields))

    # Then the first refusal in the submit's order is answered: an image's before the webhook's, and the webhook's
    # thread has ended with the request
    assert (refusal.status_code, refusal.param) == (400, param), refusal.message
    assert threading.active_count() == threads
