"""Submission rules for gpt-image-2: request parsing (web/request_parsing) + submit (jobs/submit) on fakes.

Every refusal is asserted by status, code and param, and by what it leaves behind: nothing.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from typing import Any

import pytest

from retouch.catalog import GPT_IMAGE_2
from retouch.errors import AccountBusy, RetouchError
from retouch.jobs.submit import SubmitDeps
from retouch.models.account_records import LedgerEntry
from retouch.models.idempotency import IdempotencyRecord
from retouch.models.records import JobRecord
from tests.builders import (
    data_url,
    edit_payload,
    file_part,
    generation_payload,
    http_event,
    image_bytes,
    json_event,
    mask_png,
    multipart,
    multipart_content_type,
    multipart_event,
    new_account_id,
    png,
)
from tests.fakes import FakeFileRepository, FakeJobQueue, FakeJobRepository, FakeLedger, FakeObjectStore, account
from tests.fakes.wiring import submit_deps_over
from tests.unit.jobs.submitting import assert_nothing_left, refused, submit

LIMITS = GPT_IMAGE_2.limits


def assert_error(error: RetouchError, status: int, code: str, param: str | None) -> None:
    assert (error.status_code, error.code, error.param) == (status, code, param), error.message


@pytest.fixture
def account_id() -> str:
    return new_account_id()


# -- Generations: accepted at the boundaries --------------------------------------------------------


@pytest.mark.parametrize("overrides", [
    pytest.param({"prompt": "x"}, id="prompt-1-char"),
    pytest.param({"prompt": "x" * LIMITS.max_prompt_chars}, id="prompt-32000-chars"),
    pytest.param({"n": 1}, id="n-1"),
    pytest.param({"n": LIMITS.max_n}, id="n-10"),
    pytest.param({"size": "auto"}, id="size-auto"),
    pytest.param({"size": "1024x640"}, id="size-min-pixels-655360"),
    pytest.param({"size": "3840x2160"}, id="size-max-pixels-and-edge"),
    pytest.param({"size": "2400x800"}, id="size-aspect-3-to-1"),
    pytest.param({"size": "800x2400"}, id="size-aspect-1-to-3"),
    pytest.param({"output_format": "jpeg", "output_compression": 0}, id="compression-0-jpeg"),
    pytest.param({"output_format": "webp", "output_compression": 100}, id="compression-100-webp"),
    pytest.param({"background": "transparent", "output_format": "png"}, id="transparent-png"),
    pytest.param({"background": "transparent", "output_format": "webp"}, id="transparent-webp"),
    pytest.param({"quality": "high", "moderation": "low", "response_format": "b64_json"}, id="enums"),
    pytest.param({"metadata": {f"k{i}": "v" for i in range(16)}}, id="metadata-16-pairs"),
    pytest.param({"model": None}, id="model-omitted-defaults"),
])
def test_generation_within_limits_is_queued(overrides: dict, submit_deps: SubmitDeps, jobs: FakeJobRepository,
                                            queue: FakeJobQueue, account_id: str) -> None:
    # Given a generation at a boundary the model accepts
    payload = {k: v for k, v in generation_payload(**overrides).items() if v is not None}
    event = json_event("generation.json", payload, account_id=account_id)

    # When it is submitted
    record = submit(event, submit_deps, account_id)

    # Then the job is stored queued for this account and enqueued once, in the account's message group (SQS fair
    # queues: one account's backlog does not delay another's)
    stored = jobs.get(record.job_id)
    assert stored is not None and stored.status == "queued" and stored.account_id == account_id
    assert stored.model == "gpt-image-2" and stored.kind == "generation"
    assert queue.sent == [record.job_id] and queue.tenants[record.job_id] == account_id
    # with a message saying it fetches no URL, so the worker claims it without reading it first
    assert queue.fetches_urls == {record.job_id: False}
    assert stored.metadata == payload.get("metadata", {})
    assert "metadata" not in stored.request


# -- Generations: refused, each naming the offending parameter ---------------------------------------


@pytest.mark.parametrize(("overrides", "code", "param"), [
    pytest.param({"prompt": ""}, "invalid_value", "prompt", id="prompt-empty"),
    pytest.param({"prompt": "x" * (LIMITS.max_prompt_chars + 1)}, "invalid_value", "prompt", id="prompt-32001"),
    pytest.param({"prompt": None}, "missing_required_parameter", "prompt", id="prompt-missing"),
    pytest.param({"n": 0}, "invalid_value", "n", id="n-0"),
    pytest.param({"n": LIMITS.max_n + 1}, "invalid_value", "n", id="n-11"),
    pytest.param({"n": "many"}, "invalid_value", "n", id="n-not-int"),
    pytest.param({"size": "1000x1000"}, "invalid_size", "size", id="size-not-multiple-of-16"),
    pytest.param({"size": "1008x640"}, "invalid_size", "size", id="size-below-min-pixels"),
    pytest.param({"size": "3840x2176"}, "invalid_size", "size", id="size-above-max-pixels"),
    pytest.param({"size": "3856x1296"}, "invalid_size", "size", id="size-edge-over-3840"),
    pytest.param({"size": "2416x800"}, "invalid_size", "size", id="size-wider-than-3-to-1"),
    pytest.param({"size": "800x2416"}, "invalid_size", "size", id="size-taller-than-1-to-3"),
    pytest.param({"size": "1024X1024"}, "invalid_size", "size", id="size-malformed"),
    pytest.param({"size": "0x0"}, "invalid_size", "size", id="size-zero"),
    pytest.param({"quality": "ultra"}, "invalid_value", "quality", id="quality-enum"),
    pytest.param({"output_format": "gif"}, "invalid_value", "output_format", id="output-format-enum"),
    pytest.param({"background": "blue"}, "invalid_value", "background", id="background-enum"),
    pytest.param({"moderation": "strict"}, "invalid_value", "moderation", id="moderation-enum"),
    pytest.param({"response_format": "png"}, "invalid_value", "response_format", id="response-format-enum"),
    pytest.param({"output_format": "jpeg", "output_compression": 101}, "invalid_value", "output_compression",
                 id="compression-101"),
    pytest.param({"output_format": "jpeg", "output_compression": -1}, "invalid_value", "output_compression",
                 id="compression-negative"),
    pytest.param({"output_format": "png", "output_compression": 50}, "invalid_value", "output_compression",
                 id="compression-with-png"),
    pytest.param({"output_compression": 50}, "invalid_value", "output_compression", id="compression-default-png"),
    pytest.param({"background": "transparent", "output_format": "jpeg"}, "invalid_value", "background",
                 id="transparent-jpeg"),
    pytest.param({"metadata": {f"k{i}": "v" for i in range(17)}}, "invalid_metadata", "metadata",
                 id="metadata-17-pairs"),
    pytest.param({"metadata": {"k" * 65: "v"}}, "invalid_metadata", "metadata", id="metadata-key-too-long"),
    pytest.param({"metadata": {"k": "v" * 513}}, "invalid_metadata", "metadata", id="metadata-value-too-long"),
    pytest.param({"model": "dall-e-9"}, "model_not_found", "model", id="unknown-model"),
    pytest.param({"model": 7}, "model_not_found", "model", id="model-not-a-string"),
    pytest.param({"colour": "red"}, "unknown_parameter", "colour", id="unknown-parameter"),
    *[pytest.param({name: value}, "unsupported_parameter", name, id=f"unsupported-{name}")
      for name, value in (("input_fidelity", "high"), ("frame_count", 4), ("svg", True), ("style", "vivid"))],
    pytest.param({"stream": True, "partial_images": 4}, "invalid_value", "partial_images", id="partial-images-over-3"),
    pytest.param({"stream": "sometimes"}, "invalid_value", "stream", id="stream-not-a-boolean"),
])
def test_generation_outside_limits_is_refused(overrides: dict, code: str, param: str, submit_deps: SubmitDeps,
                                              jobs: FakeJobRepository, store: FakeObjectStore, queue: FakeJobQueue,
                                              account_id: str) -> None:
    # Given a generation breaking one rule
    payload = {k: v for k, v in generation_payload(**overrides).items() if v is not None}
    event = json_event("generation.json", payload, account_id=account_id)

    # When it is submitted
    error = refused(event, submit_deps, account_id)

    # Then it is a 400 naming the parameter, and nothing was stored or queued
    assert_error(error, 400, code, param)
    assert error.error_type == "invalid_request_error"
    assert_nothing_left(jobs, store, queue)


@pytest.mark.parametrize(("body", "content_type", "status", "code"), [
    pytest.param("{not json", "application/json", 400, "invalid_json", id="invalid-json"),
    pytest.param("[1, 2]", "application/json", 400, "invalid_json", id="json-array"),
    pytest.param("", "application/json", 400, "invalid_json", id="empty-body"),
    pytest.param('{"prompt": "x"}', "text/plain", 415, "unsupported_media_type", id="text-plain"),
    pytest.param('{"prompt": "x"}', "multipart/form-data; boundary=b", 415, "unsupported_media_type",
                 id="multipart-to-generations"),
    pytest.param('{"prompt": "x"}', "", 415, "unsupported_media_type", id="no-content-type"),
])
def test_generation_body_problems(body: str, content_type: str, status: int, code: str, submit_deps: SubmitDeps,
                                  jobs: FakeJobRepository, store: FakeObjectStore, queue: FakeJobQueue,
                                  account_id: str) -> None:
    # Given a generation whose body or content type is wrong
    event = http_event("generation.json", account_id=account_id, body=body, content_type=content_type,
                       base64_body=False)
    if not content_type:
        event["headers"].pop("content-type")

    # When it is submitted
    error = refused(event, submit_deps, account_id)

    # Then the status and code say what is wrong, and nothing is left behind
    assert_error(error, status, code, None)
    assert_nothing_left(jobs, store, queue)


def test_json_content_type_with_charset_is_accepted(submit_deps: SubmitDeps, queue: FakeJobQueue,
                                                    account_id: str) -> None:
    # Given a JSON generation labelled with a charset parameter
    event = json_event("generation.json", generation_payload(), account_id=account_id,
                       headers={"Content-Type": "application/json; charset=utf-8"})
    event["headers"].pop("content-type")

    # When it is submitted
    record = submit(event, submit_deps, account_id)

    # Then it is queued
    assert queue.sent == [record.job_id]


# -- Edits: images by content, counts, masks -----------------------------------------------------------


def test_multipart_edit_stores_inputs_and_queues(submit_deps: SubmitDeps, jobs: FakeJobRepository,
                                                 store: FakeObjectStore, queue: FakeJobQueue, account_id: str) -> None:
    # Given a multipart edit with two images (repeated image[]), a mask and metadata fields
    first, second = png(96, 64), image_bytes("jpeg", 40, 40)
    event = multipart_event([
        ("prompt", "add a moon"),
        ("n", "2"),
        file_part("image[]", first, "a.png"),
        file_part("image[]", second, "b.jpg", "image/jpeg"),
        file_part("mask", mask_png(96, 64), "mask.png"),
        ("metadata[order]", "A-1"),
    ], account_id=account_id)

    # When it is submitted
    record = submit(event, submit_deps, account_id)

    # Then both images and the mask are stored under inputs/{account}/{job}/ with their detected types
    prefix = f"inputs/{account_id}/{record.job_id}"
    assert sorted(store.objects) == [f"{prefix}/image_0.png", f"{prefix}/image_1.jpg", f"{prefix}/mask.png"]
    assert store.objects[f"{prefix}/image_0.png"].data == first
    assert store.objects[f"{prefix}/image_1.jpg"].content_type == "image/jpeg"
    stored = jobs.get(record.job_id)
    assert stored is not None and stored.kind == "edit" and stored.status == "queued"
    assert [(i.key, i.width, i.height) for i in stored.inputs] == [
        (f"{prefix}/image_0.png", 96, 64), (f"{prefix}/image_1.jpg", 40, 40)]
    assert stored.mask is not None and stored.mask.key == f"{prefix}/mask.png"
    assert stored.request["n"] == 2 and stored.metadata == {"order": "A-1"}
    assert queue.sent == [record.job_id]


def test_png_named_gif_is_accepted_by_content(submit_deps: SubmitDeps, store: FakeObjectStore,
                                              account_id: str) -> None:
    # Given a PNG uploaded under a .gif name and a GIF content type
    event = multipart_event([("prompt", "p"), file_part("image", png(), "x.gif", "image/gif")], account_id=account_id)

    # When it is submitted
    record = submit(event, submit_deps, account_id)

    # Then it is stored as the PNG it is
    key = f"inputs/{account_id}/{record.job_id}/image_0.png"
    assert store.objects[key].content_type == "image/png"


@pytest.mark.parametrize(("data", "filename"), [
    pytest.param(image_bytes("gif", 32, 32), "x.png", id="gif-named-png"),
    pytest.param(image_bytes("bmp", 32, 32), "x.png", id="bmp-named-png"),
    pytest.param(b"not an image at all", "x.png", id="text-named-png"),
])
def test_non_accepted_format_is_refused_by_content(data: bytes, filename: str, submit_deps: SubmitDeps,
                                                   jobs: FakeJobRepository, store: FakeObjectStore,
                                                   queue: FakeJobQueue, account_id: str) -> None:
    # Given an upload whose name says PNG but whose bytes are something else
    event = multipart_event([("prompt", "p"), file_part("image[]", data, filename)], account_id=account_id)

    # When it is submitted
    error = refused(event, submit_deps, account_id)

    # Then it is refused naming the image, and nothing is left behind
    assert_error(error, 400, "invalid_image_format", "image[0]")
    assert_nothing_left(jobs, store, queue)


def test_truncated_png_is_refused(submit_deps: SubmitDeps, jobs: FakeJobRepository, store: FakeObjectStore,
                                  queue: FakeJobQueue, account_id: str) -> None:
    # Given PNG magic bytes followed by garbage, as the second image
    event = multipart_event([("prompt", "p"), file_part("image[]", png()),
                             file_part("image[]", png()[:12] + b"garbage")], account_id=account_id)

    # When it is submitted
    error = refused(event, submit_deps, account_id)

    # Then the second image is named and the first one was not kept
    assert_error(error, 400, "invalid_image", "image[1]")
    assert_nothing_left(jobs, store, queue)


def test_sixteen_images_are_accepted(submit_deps: SubmitDeps, store: FakeObjectStore, account_id: str) -> None:
    # Given the maximum number of images
    event = multipart_event([("prompt", "p")] + [file_part("image[]", png(32, 32))] * LIMITS.max_images,
                            account_id=account_id)

    # When it is submitted
    record = submit(event, submit_deps, account_id)

    # Then all sixteen are stored
    assert len(record.inputs) == 16 and len(store.objects) == 16


def test_an_input_the_bucket_refuses_leaves_no_input_and_no_runnable_job(
        submit_deps: SubmitDeps, jobs: FakeJobRepository, store: FakeObjectStore, queue: FakeJobQueue,
        account_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a bucket that refuses the third of five images (they are stored several at once)
    put = store.put

    def refuse_third(key: str, data: Any, content_type: str) -> None:
        if "/image_2." in key:
            raise OSError("S3 refused")
        put(key, data, content_type)

    monkeypatch.setattr(store, "put", refuse_third)
    event = multipart_event([("prompt", "p")] + [file_part("image[]", png(32, 32))] * 5, account_id=account_id)

    # When it is submitted, the failure reaches the caller
    with pytest.raises(OSError, match="S3 refused"):
        submit(event, submit_deps, account_id)

    # Then the inputs that were stored are deleted and nothing is queued; the job, written meanwhile, is ended
    # `failed` unqueued and its price given back in full (nothing held, nothing charged)
    assert store.objects == {} and queue.sent == []
    [item] = jobs.items.values()
    assert item["status"] == "failed" and item["error"]["code"] == "storage_unavailable"
    ledger = submit_deps.billing.ledger
    assert isinstance(ledger, FakeLedger) and ledger.state is not None
    assert ledger.state.holds == {} and ledger.state.in_flight == 0
    reserve, settle = ledger.entries
    assert (reserve.kind, settle.kind, settle.amount_micros, settle.charged_micros) == (
        "reserve", "settle", -reserve.amount_micros, 0)


def test_the_inputs_are_stored_while_the_job_is_written_and_queued_only_once_stored(
        store: FakeObjectStore, queue: FakeJobQueue, account_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a bucket whose put ends only once the job's write and hold are done (a slow upload)
    written = threading.Event()

    class SignallingJobs(FakeJobRepository):
        def create(self, record: JobRecord, key: IdempotencyRecord | None = None) -> None:
            super().create(record, key)
            written.set()

    put = store.put

    def put_once_the_job_is_written(key: str, data: Any, content_type: str) -> None:
        assert written.wait(5), "the job's write waited for the input's put"
        put(key, data, content_type)

    monkeypatch.setattr(store, "put", put_once_the_job_is_written)
    sent = queue.send

    def send_once_stored(job_id: str, **kwargs: Any) -> None:
        assert len(store.objects) == 2, "queued before its inputs were stored"
        sent(job_id, **kwargs)

    monkeypatch.setattr(queue, "send", send_once_stored)
    deps = submit_deps_over(jobs=SignallingJobs(), store=store, queue=queue, files=FakeFileRepository())
    event = multipart_event([("prompt", "p"), file_part("image", png()), file_part("mask", mask_png())],
                            account_id=account_id)

    # When an edit is submitted, then it is accepted and queued, its inputs stored
    accepted = submit(event, deps, account_id)
    assert queue.sent == [accepted.job_id] and len(store.objects) == 2


def test_a_refused_hold_waits_for_the_inputs_being_stored_and_deletes_them(
        store: FakeObjectStore, queue: FakeJobQueue, account_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a put still running when the job's write is refused
    refused_write = threading.Event()
    put = store.put

    def put_after_the_refusal(key: str, data: Any, content_type: str) -> None:
        refused_write.wait(5)
        put(key, data, content_type)

    class BusyJobs(FakeJobRepository):
        def create(self, record: JobRecord, key: object = None) -> None:
            refused_write.set()
            raise AccountBusy("busy")

    monkeypatch.setattr(store, "put", put_after_the_refusal)
    deps = submit_deps_over(jobs=BusyJobs(), store=store, queue=queue, files=FakeFileRepository())
    event = multipart_event([("prompt", "p"), file_part("image", png())], account_id=account_id)

    # When it is submitted, then it is refused, and the input stored after the refusal is deleted too
    error = refused(event, deps, account_id)
    assert error.code == "account_busy" and store.objects == {} and queue.sent == []


@pytest.mark.parametrize(("fields", "code", "param"), [
    pytest.param([("prompt", "p")] + [file_part("image[]", png(32, 32))] * 17, "invalid_value", "image",
                 id="17-images"),
    pytest.param([("prompt", "p")], "missing_required_parameter", "image", id="no-image"),
    pytest.param([("prompt", "p"), ("image", "not-a-file")], "invalid_value", "image", id="image-not-a-file"),
    pytest.param([("prompt", "p"), file_part("image", png()), ("mask", "x")], "invalid_value", "mask",
                 id="mask-not-a-file"),
    pytest.param([("prompt", "p"), ("prompt", "q"), file_part("image", png())], "invalid_value", "prompt",
                 id="field-repeated"),
    pytest.param([("prompt", "p"), file_part("image", png()), ("metadata", "[1]")], "invalid_value", "metadata",
                 id="metadata-not-object"),
    pytest.param([("prompt", "p"), file_part("image", png()), ("metadata", "{")], "invalid_value", "metadata",
                 id="metadata-not-json"),
    pytest.param([("prompt", "p"), file_part("image", png()), ("input_fidelity", "high")], "unsupported_parameter",
                 "input_fidelity", id="unsupported-input-fidelity"),
    pytest.param([("prompt", "p"), file_part("image", png()), ("stream", "true"), ("partial_images", "-1")],
                 "invalid_value", "partial_images", id="partial-images-negative"),
    pytest.param([("prompt", "p"), file_part("image", png()), ("model", "gpt-image-0")], "model_not_found", "model",
                 id="unknown-model"),
    pytest.param([("prompt", "p"), file_part("image", png()), ("shade", "x")], "unknown_parameter", "shade",
                 id="unknown-parameter"),
    pytest.param([("prompt", "p"), file_part("image", png()), ("size", "1000x1000")], "invalid_size", "size",
                 id="bad-size"),
])
def test_multipart_edit_refused(fields: list, code: str, param: str, submit_deps: SubmitDeps,
                                jobs: FakeJobRepository, store: FakeObjectStore, queue: FakeJobQueue,
                                account_id: str) -> None:
    # Given a multipart edit breaking one rule
    event = multipart_event(fields, account_id=account_id)

    # When it is submitted
    error = refused(event, submit_deps, account_id)

    # Then it is a 400 naming the parameter, and nothing is left behind
    assert_error(error, 400, code, param)
    assert_nothing_left(jobs, store, queue)


@pytest.mark.parametrize(("mask", "reason"), [
    pytest.param(mask_png(96, 64, alpha=False), "alpha", id="no-alpha"),
    pytest.param(image_bytes("webp", 96, 64, "RGBA"), "PNG", id="webp-mask"),
    pytest.param(mask_png(64, 96), "must match", id="other-dimensions"),
    pytest.param(b"\x89PNG\r\n\x1a\nbroken", "could not be read", id="unreadable"),
])
def test_bad_mask_is_refused(mask: bytes, reason: str, submit_deps: SubmitDeps, jobs: FakeJobRepository,
                             store: FakeObjectStore, queue: FakeJobQueue, account_id: str) -> None:
    # Given a 96x64 image and a mask that is not a same-sized PNG with alpha
    event = multipart_event([("prompt", "p"), file_part("image", png(96, 64)), file_part("mask", mask)],
                            account_id=account_id)

    # When it is submitted
    error = refused(event, submit_deps, account_id)

    # Then the mask is named, and the image already checked was not stored
    assert_error(error, 400, "invalid_mask", "mask")
    assert reason in error.message
    assert_nothing_left(jobs, store, queue)


@pytest.mark.parametrize(("body", "content_type"), [
    pytest.param(b"--b\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\np\r\n", "multipart/form-data",
                 id="no-boundary-param"),
    pytest.param(b"--b\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\np\r\n",
                 "multipart/form-data; boundary=b", id="no-closing-boundary"),
    pytest.param(b"garbage", "multipart/form-data; boundary=b", id="no-parts"),
    pytest.param(b"--b\r\nContent-Disposition: form-data\r\n\r\np\r\n--b--\r\n", "multipart/form-data; boundary=b",
                 id="part-without-name"),
    pytest.param(b"--b\r\nContent-Disposition: form-data; name=\"p\"\r\n--b--\r\n", "multipart/form-data; boundary=b",
                 id="part-without-header-end"),
])
def test_malformed_multipart_is_refused(body: bytes, content_type: str, submit_deps: SubmitDeps,
                                        jobs: FakeJobRepository, store: FakeObjectStore, queue: FakeJobQueue,
                                        account_id: str) -> None:
    # Given a multipart body the parser cannot read
    event = http_event("edit_multipart.json", account_id=account_id, body=body, content_type=content_type)

    # When it is submitted
    error = refused(event, submit_deps, account_id)

    # Then it is a 400 invalid_multipart, and nothing is left behind
    assert_error(error, 400, "invalid_multipart", None)
    assert_nothing_left(jobs, store, queue)


def test_edit_with_wrong_content_type_is_415(submit_deps: SubmitDeps, jobs: FakeJobRepository,
                                             store: FakeObjectStore, queue: FakeJobQueue, account_id: str) -> None:
    # Given an edit sent as a raw image
    event = http_event("edit_multipart.json", account_id=account_id, body=png(), content_type="image/png")

    # When it is submitted
    error = refused(event, submit_deps, account_id)

    # Then it is 415 and nothing is left behind
    assert_error(error, 415, "unsupported_media_type", None)
    assert_nothing_left(jobs, store, queue)


# -- Edits as JSON: data: URLs and https URLs --------------------------------------------------------------


def test_json_edit_with_data_and_https_urls(submit_deps: SubmitDeps, jobs: FakeJobRepository,
                                            store: FakeObjectStore, queue: FakeJobQueue, account_id: str) -> None:
    # Given a JSON edit with a data: URL image, an https image and an https mask
    payload = edit_payload(images=[{"image_url": data_url(png(96, 64))},
                                   {"image_url": "https://images.example/cat.webp"}],
                           mask={"image_url": "https://images.example/mask.png"})
    event = json_event("edit_json.json", payload, account_id=account_id)

    # When it is submitted
    record = submit(event, submit_deps, account_id)

    # Then only the data: URL is stored; the URLs are kept for the worker to fetch
    stored = jobs.get(record.job_id)
    assert stored is not None
    assert list(store.objects) == [f"inputs/{account_id}/{record.job_id}/image_0.png"]
    assert stored.inputs[1].url == "https://images.example/cat.webp" and stored.inputs[1].key is None
    assert stored.mask is not None and stored.mask.url == "https://images.example/mask.png"
    # and its message tells the worker that running it fetches URLs (its account's fetching share applies)
    assert queue.fetches_urls == {record.job_id: True}


def test_json_edit_with_data_url_mask_checks_it_against_first_image(submit_deps: SubmitDeps,
                                                                    store: FakeObjectStore, account_id: str) -> None:
    # Given a JSON edit with a data: URL image and a same-sized data: URL mask
    payload = edit_payload(images=[{"image_url": data_url(png(96, 64))}],
                           mask={"image_url": data_url(mask_png(96, 64))})
    event = json_event("edit_json.json", payload, account_id=account_id)

    # When it is submitted
    record = submit(event, submit_deps, account_id)

    # Then the mask is stored beside the image
    assert f"inputs/{account_id}/{record.job_id}/mask.png" in store.objects


@pytest.mark.parametrize(("payload", "code", "param"), [
    pytest.param(edit_payload(images=[]), "invalid_value", "images", id="empty-images"),
    pytest.param(edit_payload(images=[{"image_url": data_url(png())}] * 17), "invalid_value", "image",
                 id="17-images"),
    pytest.param(edit_payload(images=[{"image_url": "ftp://images.example/a.png"}]), "invalid_image_url", "image[0]",
                 id="ftp-url"),
    pytest.param(edit_payload(images=[{"image_url": "https://x.example/" + "a" * 4096}]), "invalid_image_url",
                 "image[0]", id="url-too-long"),
    pytest.param(edit_payload(images=[{"image_url": "data:image/png;base64,@@@"}]), "invalid_value", "image[0]",
                 id="data-url-bad-base64"),
    pytest.param(edit_payload(images=[{"image_url": "data:image/png,plain"}]), "invalid_value", "image[0]",
                 id="data-url-not-base64"),
    pytest.param(edit_payload(images=[{"image_url": data_url(image_bytes("gif", 8, 8), "image/gif")}]),
                 "invalid_image_format", "image[0]", id="data-url-gif"),
    pytest.param(edit_payload(images=[{"url": "https://x.example/a.png"}]), "missing_required_parameter",
                 "image[0]", id="image-object-without-image-url"),
    pytest.param(edit_payload(images=None, image=data_url(png())), "invalid_value", "image",
                 id="image-key-in-json"),
    pytest.param(edit_payload(images=[{"data": "raw bytes as text"}]), "missing_required_parameter", "image[0]",
                 id="json-cannot-send-raw-bytes"),
    pytest.param(edit_payload(images=[{"image_url": data_url(png()), "detail": "high"}]), "unknown_parameter",
                 "image[0]", id="image-object-with-extra-key"),
    pytest.param(edit_payload(mask="https://x.example/m.png"), "missing_required_parameter", "mask",
                 id="mask-not-an-object"),
    pytest.param(edit_payload(metadata=[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]),
                 "invalid_value", "metadata", id="nested-metadata"),
    pytest.param(edit_payload(mask={"image_url": data_url(png(96, 64))}), "invalid_mask", "mask",
                 id="data-url-mask-without-alpha"),
    pytest.param(edit_payload(stream=True, partial_images="many"), "invalid_value", "partial_images",
                 id="partial-images-not-a-number"),
])
def test_json_edit_refused(payload: dict, code: str, param: str, submit_deps: SubmitDeps, jobs: FakeJobRepository,
                           store: FakeObjectStore, queue: FakeJobQueue, account_id: str) -> None:
    # Given a JSON edit breaking one rule
    payload = {k: v for k, v in payload.items() if v is not None}
    event = json_event("edit_json.json", payload, account_id=account_id)

    # When it is submitted
    error = refused(event, submit_deps, account_id)

    # Then it is a 400 naming the parameter, and nothing is left behind
    assert_error(error, 400, code, param)
    assert_nothing_left(jobs, store, queue)


# -- All or nothing: enqueue and storage failures -----------------------------------------------------


def test_enqueue_failure_ends_the_job_and_deletes_inputs(jobs: FakeJobRepository, store: FakeObjectStore,
                                                         account_id: str) -> None:
    # Given a queue that refuses messages
    queue = FakeJobQueue(unavailable=True)
    deps = submit_deps_over(jobs=jobs, store=store, queue=queue, files=FakeFileRepository())
    event = multipart_event([("prompt", "p"), file_part("image", png()), file_part("mask", mask_png())],
                            account_id=account_id)

    # When an edit is submitted
    error = refused(event, deps, account_id)

    # Then the client gets 503 queue_unavailable, the job is failed (not left queued) and its inputs are gone
    assert_error(error, 503, "queue_unavailable", None)
    assert error.error_type == "server_error"
    assert store.objects == {}
    [item] = jobs.items.values()
    assert item["status"] == "failed" and item["error"]["code"] == "queue_unavailable"
    assert item["account_id"] == account_id


def test_when_the_job_can_be_neither_queued_nor_ended_it_is_left_whole_for_the_sweeper(
        store: FakeObjectStore, account_id: str) -> None:
    # Given a queue that refuses messages, and a table that then fails every write (the release too)
    class FailsAfterCreate(FakeJobRepository):
        def end(self, transition: object, **kwargs: object) -> bool:
            raise ConnectionError("DynamoDB unreachable")

    jobs = FailsAfterCreate()
    deps = submit_deps_over(jobs=jobs, store=store, queue=FakeJobQueue(unavailable=True),
                      files=FakeFileRepository())
    event = multipart_event([("prompt", "p"), file_part("image", png())], account_id=account_id)

    # When an edit is submitted
    accepted = submit(event, deps, account_id)

    # Then the job exists queued with its inputs (the sweeper queues it), and the client is given the job
    [item] = jobs.items.values()
    assert item["status"] == "queued" and len(store.objects) == 1
    assert accepted.job_id == item["job_id"] and accepted.status == "queued"


def test_a_refused_job_write_deletes_stored_inputs(store: FakeObjectStore, queue: FakeJobQueue,
                                                   account_id: str) -> None:
    # Given a job table that refuses the write (a domain refusal guarantees nothing was written)
    class BusyJobs(FakeJobRepository):
        def create(self, record: JobRecord, key: object = None) -> None:
            raise AccountBusy("busy")

    deps = submit_deps_over(jobs=BusyJobs(), store=store, queue=queue, files=FakeFileRepository())
    event = multipart_event([("prompt", "p"), file_part("image", png())], account_id=account_id)

    # When an edit is submitted
    with pytest.raises(AccountBusy):
        submit(event, deps, account_id)

    # Then the uploaded input is deleted and nothing is queued
    assert store.objects == {} and queue.sent == []


def test_a_job_write_that_failed_without_committing_cleans_up(store: FakeObjectStore, queue: FakeJobQueue,
                                                                account_id: str) -> None:
    # Given a job table whose write fails in an unknown way and left nothing (the read finds no job)
    class BrokenJobs(FakeJobRepository):
        def create(self, record: JobRecord, key: object = None) -> None:
            raise RuntimeError("table unavailable")

    deps = submit_deps_over(jobs=BrokenJobs(), store=store, queue=queue, files=FakeFileRepository())
    event = multipart_event([("prompt", "p"), file_part("image", png())], account_id=account_id)

    # When an edit is submitted, then it fails, nothing is queued and the input is deleted
    with pytest.raises(RuntimeError):
        submit(event, deps, account_id)
    assert store.objects == {} and queue.sent == []


def test_a_hold_confirmation_that_committed_but_lost_its_answer_goes_on(store: FakeObjectStore, queue: FakeJobQueue,
                                                                      account_id: str) -> None:
    # Given a ledger whose last submit step (the reserve entry) commits and then fails (the answer was lost)
    class ConfirmsThenFails(FakeLedger):
        def confirm_hold(self, entry: LedgerEntry) -> bool:
            super().confirm_hold(entry)
            raise ConnectionError("connection reset after the write")

    jobs = FakeJobRepository()
    deps = submit_deps_over(jobs=jobs, store=store, queue=queue, files=FakeFileRepository())
    deps = replace(deps, billing=replace(deps.billing, ledger=ConfirmsThenFails(
        account(10**12, max_in_flight=10**6), jobs=jobs)))
    event = multipart_event([("prompt", "p"), file_part("image", png())], account_id=account_id)

    # When an edit is submitted
    accepted = submit(event, deps, account_id)

    # Then the job that exists is queued and answered, with its input (no second job for a retrying client)
    assert queue.sent == [accepted.job_id] and len(store.objects) == 1 and len(jobs.items) == 1
    assert "hold_pending" not in jobs.items[accepted.job_id]


def test_a_job_write_whose_answer_was_lost_before_its_hold_leaves_nothing(store: FakeObjectStore,
                                                                          queue: FakeJobQueue,
                                                                          account_id: str) -> None:
    # Given a job table whose first write commits and then fails (the answer was lost; no credit held yet)
    class CommitsThenFails(FakeJobRepository):
        def create(self, record: JobRecord, key: IdempotencyRecord | None = None) -> None:
            super().create(record, key)
            raise ConnectionError("connection reset after the write")

    jobs = CommitsThenFails()
    deps = submit_deps_over(jobs=jobs, store=store, queue=queue, files=FakeFileRepository())
    event = multipart_event([("prompt", "p"), file_part("image", png())], account_id=account_id)

    # When an edit is submitted, then it fails, and neither the job nor its input is left (nothing was held)
    with pytest.raises(ConnectionError):
        submit(event, deps, account_id)
    assert queue.sent == [] and store.objects == {} and jobs.items == {}


def test_response_format_is_kept_on_the_job_but_metadata_is_not_in_request(submit_deps: SubmitDeps,
                                                                          jobs: FakeJobRepository,
                                                                          account_id: str) -> None:
    # Given a generation asking for base64 output with metadata
    event = json_event("generation.json", generation_payload(response_format="b64_json", metadata={"a": "b"}),
                       account_id=account_id)

    # When it is submitted
    record = submit(event, submit_deps, account_id)

    # Then the request keeps response_format (the status view needs it) and metadata lives beside it
    stored = jobs.get(record.job_id)
    assert stored is not None
    assert stored.request["response_format"] == "b64_json"
    assert stored.metadata == {"a": "b"} and "metadata" not in stored.request
    assert json.loads(json.dumps(stored.request))["prompt"] == "a lighthouse at dawn"


def test_no_response_format_is_stored_when_none_was_asked(submit_deps: SubmitDeps, jobs: FakeJobRepository,
                                                          account_id: str) -> None:
    # Given a generation that names no response_format (as OpenAI's samples do)
    event = json_event("generation.json", generation_payload(), account_id=account_id)

    # When it is submitted, Then the job records none, so its view can apply OpenAI's default
    stored = jobs.get(submit(event, submit_deps, account_id).job_id)
    assert stored is not None and "response_format" not in stored.request


@pytest.mark.parametrize("sample", ["generation.json", "edit_json.json"])
def test_the_dated_model_alias_is_served_as_gpt_image_2(submit_deps: SubmitDeps, jobs: FakeJobRepository,
                                                        account_id: str, sample: str) -> None:
    # Given a request naming the dated snapshot gpt-image-2-2026-04-21
    payload = (generation_payload if sample == "generation.json" else edit_payload)(model="gpt-image-2-2026-04-21")
    event = json_event(sample, payload, account_id=account_id)

    # When it is submitted, Then the job is a gpt-image-2 job (priced, limited and sent to the provider as such)
    stored = jobs.get(submit(event, submit_deps, account_id).job_id)
    assert stored is not None and stored.model == "gpt-image-2" and stored.request["model"] == "gpt-image-2"


def test_multipart_event_from_the_sample_is_accepted(submit_deps: SubmitDeps, queue: FakeJobQueue,
                                                     account_id: str) -> None:
    # Given the recorded sample multipart event as is (only the account swapped)
    event = http_event("edit_multipart.json", account_id=account_id)

    # When it is submitted
    record = submit(event, submit_deps, account_id)

    # Then it is queued
    assert queue.sent == [record.job_id]


def test_multipart_body_with_content_type_case_variants(submit_deps: SubmitDeps, queue: FakeJobQueue,
                                                        account_id: str) -> None:
    # Given a multipart body whose header is spelled in mixed case
    body = multipart([("prompt", "p"), file_part("image", png())])
    event = http_event("edit_multipart.json", account_id=account_id, body=body,
                       content_type=multipart_content_type().replace("multipart/form-data", "Multipart/Form-Data"))

    # When it is submitted
    record = submit(event, submit_deps, account_id)

    # Then it is parsed and queued
    assert queue.sent == [record.job_id]
