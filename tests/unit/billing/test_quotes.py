"""Quotes (billing/quotes.py): the hold and the expected charge of a request, with no job and nothing held."""

from __future__ import annotations

import pytest

from retouch.billing.charges import JobBilling
from retouch.billing.prices import price_table
from retouch.billing.quotes import quote
from retouch.errors import UnusableFile
from retouch.models.quotes import QuoteRequest
from retouch.models.records import FileRecord, StoredInput
from tests.fakes import FakeFileRepository, FakeJobRepository, FakeLedger, account, job

ACCOUNT = "acct_unit000000000000000"
FILE_ID = "file_" + "a" * 24


def ready_file(files: FakeFileRepository, *, width: int, height: int, owner: str = ACCOUNT) -> None:
    files.create(FileRecord(file_id=FILE_ID, account_id=owner, key=f"uploads/x/{FILE_ID}", filename="a.png",
                            purpose="vision", mime_type="image/png", declared_bytes=10, status="ready",
                            created_at=1, expires_at=4_000_000_000, width=width, height=height, bytes=10))


def test_a_quote_holds_what_the_job_of_the_same_request_holds() -> None:
    # Given an edit naming an uploaded 1536x1024 file, a declared 1024x1024 image and a URL, with a mask
    files = FakeFileRepository()
    ready_file(files, width=1536, height=1024)
    body = {"model": "gpt-image-2", "prompt": "put them on a shelf " * 50, "quality": "medium", "size": "1024x1536",
            "n": 2, "images": [{"file_id": FILE_ID}, {"width": 1024, "height": 1024},
                               {"image_url": "https://images.example/a.png"}],
            "mask": {"width": 1536, "height": 1024}}

    # When it is quoted, and the same request is held as a job (its inputs as submit stores them)
    quoted = quote(price_table(), files, ACCOUNT, QuoteRequest.model_validate(body))
    record = job(kind="edit", request={k: body[k] for k in ("model", "prompt", "quality", "size", "n")},
                 inputs=[StoredInput(key="k1", width=1536, height=1024), StoredInput(key="k2", width=1024, height=1024),
                         StoredInput(url="https://images.example/a.png")],
                 mask=StoredInput(key="m", width=1536, height=1024))
    held = JobBilling(ledger=FakeLedger(account()), jobs=FakeJobRepository(), prices=price_table()).price(record)

    # Then the quote's hold is the job's, its expected charge no more, and both count the four inputs
    assert quoted.hold_micros == held
    assert 0 < quoted.expected_micros <= quoted.hold_micros
    assert quoted.operation == "edit" and quoted.input_images == 4
    assert quoted.hold["input_image_tokens"] == quoted.expected["input_image_tokens"] > 0
    assert quoted.hold["input_text_tokens"] == len(body["prompt"]) > quoted.expected["input_text_tokens"]


def test_a_generation_quote_prices_its_prompt_and_outputs() -> None:
    # Given a generation of 3 low 1024x1024 images under a 20% markup
    request = QuoteRequest.model_validate({"prompt": "a lighthouse at dawn", "quality": "low",
                                           "size": "1024x1024", "n": 3})

    # When it is quoted
    quoted = quote(price_table(20), FakeFileRepository(), ACCOUNT, request)

    # Then the outputs are 3 x $0.0072 and the prompt's 20 bytes are held as 20 tokens at $6 per million, marked up
    assert quoted.operation == "generation" and quoted.markup_percent == 20
    assert quoted.hold_micros == 3 * 7_200 + 120
    assert quoted.expected_micros == 3 * 7_200 + 30


@pytest.mark.parametrize("owner", ["acct_other00000000000000", None])
def test_a_file_that_is_not_the_callers_is_refused(owner: str | None) -> None:
    # Given another account's file, or none at all
    files = FakeFileRepository()
    if owner:
        ready_file(files, width=1024, height=1024, owner=owner)
    request = QuoteRequest.model_validate({"prompt": "x", "images": [{"file_id": FILE_ID}]})

    # When it is quoted, then 400 file_not_found naming the image
    with pytest.raises(UnusableFile) as refused:
        quote(price_table(), files, ACCOUNT, request)
    assert (refused.value.code, refused.value.param) == ("file_not_found", "images[0].file_id")  # as the edit names it
