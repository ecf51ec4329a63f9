"""The pricing rule (billing/pricing_rule.py): inputs are sold at least at what the upstream bills for them.

The upstream's cost here is worked out independently of the rule, from OpenAI's published token rates and its
image-token count (65 + 129 per 512-px tile), as the issue (#24 finding 2) states it."""

from __future__ import annotations

from math import ceil

from retouch.billing.charges import JobBilling
from retouch.billing.prices import price_table
from retouch.billing.pricing_rule import PricedRequest, expected_charge, hold_micros, job_hold_micros
from retouch.models.outcome import JobOutcome
from retouch.models.records import StoredInput, StoredOutput
from tests.fakes import FakeJobRepository, FakeLedger, account, job

TEXT_USD_PER_MTOK, IMAGE_USD_PER_MTOK = 5.0, 8.0  # gpt-image-2: text and image input, per million tokens
OUTPUT_LOW_1024_USD = 0.006
LONG_PROMPT = ("Place every product from the reference photos on one wooden shelf, keep each label legible, "
               "match the lighting. " * 240)[:24_000]
PHOTO = (1024, 1024)


def openai_image_tokens(width: int, height: int) -> int:
    return 65 + 129 * ceil(min(width, 2048) / 512) * ceil(min(height, 2048) / 512)


def upstream_cost_micros(prompt: str, sizes: list[tuple[int, int]], outputs_usd: float) -> int:
    """What OpenAI bills: prompt tokens (about 4 characters a token), image tokens, the output image."""
    text = ceil(len(prompt) / 4) * TEXT_USD_PER_MTOK
    image = sum(openai_image_tokens(*size) for size in sizes) * IMAGE_USD_PER_MTOK
    return ceil(text + image + outputs_usd * 1_000_000)


def worst_edit(**fields: object) -> object:
    """An edit with 16 1024x1024 inputs and a 24,000-character prompt at quality low, 1024x1024 (the issue's)."""
    inputs = [StoredInput(key=f"inputs/a/j/image_{i}.png", width=PHOTO[0], height=PHOTO[1]) for i in range(16)]
    return job(kind="edit", request={"quality": "low", "size": "1024x1024", "n": 1, "prompt": LONG_PROMPT},
               inputs=inputs, **fields)


def low_output() -> tuple[StoredOutput, ...]:
    return (StoredOutput(key="k", content_type="image/png", bytes=1, width=1024, height=1024),)


def test_an_edit_with_16_inputs_and_a_long_prompt_holds_and_is_charged_at_least_its_upstream_cost() -> None:
    # Given the worst-case edit and what OpenAI bills for it (~$0.11, where the old price was $0.006)
    cost = upstream_cost_micros(LONG_PROMPT, [PHOTO] * 16, OUTPUT_LOW_1024_USD)
    assert cost > 100_000
    ledger, jobs = FakeLedger(account(10_000_000)), FakeJobRepository()
    billing = JobBilling(ledger=ledger, jobs=jobs, prices=price_table())

    # When it is held, then settled on the usage OpenAI reports, and on the estimate when an upstream reports none
    record = billing.reserve(worst_edit(), account(10_000_000))
    reported = {"input_tokens_details": {"text_tokens": ceil(len(LONG_PROMPT) / 4),
                                         "image_tokens": 16 * openai_image_tokens(*PHOTO)}}
    _, on_usage = billing.charge_for(record, JobOutcome(status="succeeded", completed_at=1, outputs=low_output(),
                                                        result={"quality": "low"}, usage=reported))
    _, on_estimate = billing.charge_for(record, JobOutcome(status="succeeded", completed_at=1, outputs=low_output(),
                                                           result={"quality": "low"}))

    # Then the hold and both charges cover the upstream's cost, and neither charge exceeds the hold
    assert record.reserved_micros is not None and record.reserved_micros >= cost
    assert on_usage is not None and on_estimate is not None
    assert cost <= on_usage.total_micros <= record.reserved_micros and not on_usage.capped
    assert cost <= on_estimate.total_micros <= record.reserved_micros
    assert on_usage.basis == "reported_tokens" and on_estimate.basis == "estimate"


def test_the_hold_covers_any_prompt_by_its_bytes_and_unknown_images_at_their_most() -> None:
    # Given a prompt of multi-byte characters (more tokens than 4 characters each) and 16 URL inputs plus a mask
    prices = price_table()
    prompt = "汉字" * 5_000
    request = PricedRequest(model="gpt-image-2", quality="low", size="1024x1024", n=1, prompt=prompt,
                            inputs=(None,) * 17)

    # When it is held, then every prompt character counts as many tokens as it has bytes, each image at the most
    rule = prices.model_prices("gpt-image-2").inputs
    assert rule is not None
    tokens_cost = len(prompt.encode()) * 5 + 17 * rule.image_tokens.most * 8  # 5 and 8 micro-dollars a token
    assert hold_micros(prices, request) == 6_000 + tokens_cost
    assert rule.image_tokens.most >= openai_image_tokens(2048, 2048)


def test_a_charge_above_the_hold_is_capped_at_the_hold_and_says_so() -> None:
    # Given a held edit whose upstream reports far more input tokens than the hold's worst case
    billing = JobBilling(ledger=FakeLedger(account()), jobs=FakeJobRepository(), prices=price_table())
    record = worst_edit(reserved_micros=50_000, markup_percent=0)

    # When it is charged
    _, charge = billing.charge_for(record, JobOutcome(
        status="succeeded", completed_at=1, outputs=low_output(), result={"quality": "low"},
        usage={"input_tokens_details": {"text_tokens": 10_000_000, "image_tokens": 0}}))

    # Then it is charged its hold and no more
    assert charge is not None and charge.total_micros == 50_000 and charge.capped


def test_an_upstream_reported_cost_is_charged_at_least_marked_up() -> None:
    # Given a generation (no inputs) served by an upstream that reported costing $0.08, under a 10% markup
    billing = JobBilling(ledger=FakeLedger(account()), jobs=FakeJobRepository(), prices=price_table(10))
    record = job(request={"quality": "high", "size": "1024x1024", "n": 1, "prompt": "a lighthouse"},
                 reserved_micros=1_000_000, markup_percent=10)

    # When it is charged, then at least $0.088
    _, charge = billing.charge_for(record, JobOutcome(status="succeeded", completed_at=1, outputs=low_output(),
                                                      result={"quality": "low"}, upstream_cost_micros=80_000,
                                                      upstream_cost_reported=True))
    assert charge is not None and charge.total_micros == 88_000


def test_settlement_of_a_priced_edit_is_exact_and_once() -> None:
    # Given the worst-case edit held on an account with $10
    ledger, jobs = FakeLedger(account(10_000_000)), FakeJobRepository()
    ledger.jobs = jobs
    billing = JobBilling(ledger=ledger, jobs=jobs, prices=price_table())
    record = billing.reserve(worst_edit(), account(10_000_000))
    held = record.reserved_micros or 0
    running = jobs.claim(record.job_id, token="t", now=2, lease_until=100)
    assert running is not None
    outcome = JobOutcome(status="succeeded", completed_at=3, outputs=low_output(), result={"quality": "low"},
                         usage={"input_tokens_details": {"text_tokens": 6_000, "image_tokens": 9_296}})

    # When it finishes, and a second delivery finishes it again
    assert billing.finish(running, token="t", outcome=outcome)
    assert not billing.finish(running, token="t", outcome=outcome)

    # Then the balance moved once by the charge, which the job's usage shows with the rule's parts
    charged = 6_000 + 6_000 * 5 + 9_296 * 8  # $5 and $8 per million tokens: 5 and 8 micro-dollars a token
    assert ledger.state is not None and ledger.state.balance_micros == 10_000_000 - charged
    settle = [entry for entry in ledger.entries if entry.kind == "settle"]
    assert len(settle) == 1 and settle[0].charged_micros == charged and settle[0].released_micros == held - charged
    usage = jobs.items[record.job_id]["usage"]
    assert usage["cost_micros"] == charged
    assert usage["pricing"]["input_basis"] == "reported_tokens" and usage["pricing"]["outputs_micros"] == 6_000


def test_the_quote_rule_and_the_hold_are_one_function() -> None:
    # Given an edit record and the same request as the rule reads it
    record = worst_edit()
    request = PricedRequest.of_job(record)

    # Then the job's hold is that request's hold, and the expected charge is no more than it
    assert job_hold_micros(price_table(), record) == hold_micros(price_table(), request)
    assert expected_charge(price_table(), request).total_micros <= hold_micros(price_table(), request)


# What OpenAI bills a streamed image's partials: 100 image output tokens each, at $30 per million for gpt-image-2.
PARTIAL_OUTPUT_TOKENS, OUTPUT_USD_PER_MTOK = 100, 30.0


def test_a_streamed_jobs_partial_images_are_held_and_charged_as_the_upstream_bills_them() -> None:
    # Given a streamed generation of two low 1024x1024 images with 3 partials each (OpenAI bills each partial as
    # 100 more image output tokens: $0.003 at gpt-image-2's rate, half the low image's own price)
    per_partial = round(PARTIAL_OUTPUT_TOKENS * OUTPUT_USD_PER_MTOK)
    ledger, jobs = FakeLedger(account(10_000_000)), FakeJobRepository()
    billing = JobBilling(ledger=ledger, jobs=jobs, prices=price_table())
    streamed = job(request={"quality": "low", "size": "1024x1024", "n": 2, "prompt": "", "partial_images": 3})
    plain = job(request={"quality": "low", "size": "1024x1024", "n": 2, "prompt": ""})

    # When it is held and settled having been sent 4 partials
    held = billing.reserve(streamed, account(10_000_000)).reserved_micros or 0
    outputs = low_output() * 2
    _, charge = billing.charge_for(streamed, JobOutcome(status="succeeded", completed_at=1, outputs=outputs,
                                                        result={"quality": "low"}, usage={"partial_images": 4}))

    # Then the hold covers all 6 partials it may be sent, and the charge the 4 it was sent, within the hold
    assert held == job_hold_micros(price_table(), plain) + 6 * per_partial
    assert charge is not None and not charge.capped
    assert charge.total_micros == 2 * 6_000 + 4 * per_partial


def test_a_quote_of_a_streamed_request_is_the_hold_its_job_takes() -> None:
    from retouch.billing.quotes import quote
    from retouch.models.quotes import QuoteRequest

    body = {"model": "gpt-image-2", "prompt": "a cat", "quality": "low", "size": "1024x1024", "n": 2,
            "stream": True, "partial_images": 2}
    quoted = quote(price_table(), QuoteRequest.model_validate(body), [])
    record = job(request={"quality": "low", "size": "1024x1024", "n": 2, "prompt": "a cat", "partial_images": 2})
    assert quoted.hold_micros == job_hold_micros(price_table(), record)
