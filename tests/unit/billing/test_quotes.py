"""Quotes' prices (billing/quotes.py): the hold and the expected charge of a request, with no job and nothing held.
How a quote is checked before it is priced: tests/unit/jobs/test_quote.py."""

from __future__ import annotations

from retouch.billing.charges import JobBilling
from retouch.billing.prices import price_table
from retouch.billing.quotes import quote
from retouch.models.quotes import QuoteRequest
from retouch.models.records import StoredInput
from tests.fakes import FakeJobRepository, FakeLedger, account, job

FILE_ID = "file_" + "a" * 24


def test_a_quote_holds_what_the_job_of_the_same_request_holds() -> None:
    # Given an edit naming an uploaded 1536x1024 file, a declared 1024x1024 image and a URL, with a mask
    body = {"model": "gpt-image-2", "prompt": "put them on a shelf " * 50, "quality": "medium", "size": "1024x1536",
            "n": 2, "images": [{"file_id": FILE_ID}, {"width": 1024, "height": 1024},
                               {"image_url": "https://images.example/a.png"}],
            "mask": {"width": 1536, "height": 1024}}

    # When it is quoted, and the same request is held as a job (its inputs as submit stores them)
    quoted = quote(price_table(), QuoteRequest.model_validate(body), [(1536, 1024), (1024, 1024), None, (1536, 1024)])
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
    quoted = quote(price_table(20), request, [])

    # Then the outputs are 3 x $0.0072 and the prompt's 20 bytes are held as 20 tokens at $6 per million, marked up
    assert quoted.operation == "generation" and quoted.markup_percent == 20
    assert quoted.hold_micros == 3 * 7_200 + 120
    assert quoted.expected_micros == 3 * 7_200 + 30
