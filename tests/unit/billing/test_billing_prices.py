"""The price table: published prices, the pixel rule, `auto`, markup, and money as integers."""

from __future__ import annotations

import json

import pytest

from retouch.billing.charges import JobBilling
from retouch.billing.money import format_usd, parse_usd
from retouch.billing.prices import PRICES_FILE, price_table
from retouch.models.outcome import JobOutcome
from retouch.models.records import StoredOutput
from tests.fakes import FakeJobRepository, FakeLedger, account, job

MODEL = "gpt-image-2"


def test_the_price_file_is_versioned_and_states_its_rules() -> None:
    # Given the repository's price file
    document = json.loads(PRICES_FILE.read_text())

    # Then it has a version, a markup, the size rule, the auto rule, and integer amounts
    assert document["version"] and isinstance(document["markup_percent"], int)
    assert "pixel" in document["size_rule"] and "auto" in document["auto_rule"]
    assert all(isinstance(v, int) for v in document["models"][MODEL]["quality"].values())


@pytest.mark.parametrize(("quality", "micros"), [("low", 6_000), ("medium", 53_000), ("high", 211_000)])
def test_gpt_image_2_at_1024_costs_the_published_price(quality: str, micros: int) -> None:
    # Given the default table, when one 1024x1024 image is priced, then it is the provider's price
    assert price_table().unit_micros(MODEL, quality, 1024 * 1024) == micros


def test_other_sizes_scale_by_pixel_count_rounded_up_to_the_micro_dollar() -> None:
    # Given 1536x1024 (1.5x the pixels) and 1040x1040 (not a round multiple)
    prices = price_table()

    # When priced at medium
    wide, odd = prices.unit_micros(MODEL, "medium", 1536 * 1024), prices.unit_micros(MODEL, "medium", 1040 * 1040)

    # Then they cost 1.5x, and 53000 x 1081600 / 1048576 = 54669.37... rounded up
    assert wide == 79_500
    assert odd == 54_670


def test_auto_quality_and_size_are_reserved_at_the_most_they_can_resolve_to() -> None:
    # Given a job asking for auto quality and auto size, n=2
    prices = price_table()

    # When its reservation is priced
    reserved = prices.reservation_micros(MODEL, quality="auto", size="auto", n=2)

    # Then it is 2 x high at 1536x1024
    assert reserved == 2 * 316_500


def test_the_markup_is_applied_to_every_price() -> None:
    # Given a 20% markup from the deployment, when low 1024x1024 is priced, then it is $0.0072
    assert price_table(20).unit_micros(MODEL, "low", 1024 * 1024) == 7_200


def test_an_auto_job_is_settled_at_what_was_produced() -> None:
    # Given an auto/auto job (held at high 1536x1024) that produced one medium 1024x1024 image
    prices = price_table()
    billing = JobBilling(ledger=FakeLedger(account()), jobs=FakeJobRepository(), prices=prices)
    auto = job(request={"quality": "auto", "size": "auto", "n": 1}, reserved_micros=316_500, markup_percent=0)

    # When its charge is computed
    images, charge = billing.charge_for(auto, JobOutcome(
        status="succeeded", completed_at=0, outputs=(
            StoredOutput(key="k", content_type="image/png", bytes=1, width=1024, height=1024),),
        result={"quality": "medium"}))

    # Then it is charged the medium price only (it had no prompt nor input images)
    assert charge is not None and (images, charge.total_micros) == (1, 53_000)


def test_a_charge_never_exceeds_the_reservation() -> None:
    # Given a job held for one low 1024x1024 image whose provider returned a larger one
    billing = JobBilling(ledger=FakeLedger(account()), jobs=FakeJobRepository(), prices=price_table())
    small = job(reserved_micros=6_000, markup_percent=0)

    # When its charge is computed
    _, charge = billing.charge_for(small, JobOutcome(status="succeeded", completed_at=0,
                                                     outputs=(StoredOutput(key="k", content_type="image/png", bytes=1,
                                                                          width=2048, height=2048),),
                                                     result={"quality": "low"}))

    # Then it is capped at what was held, and says so
    assert charge is not None and charge.total_micros == 6_000 and charge.capped


def test_dollars_are_parsed_exactly_to_the_micro_dollar_and_never_rounded() -> None:
    # Given operator input, then it becomes exact integers; a seventh decimal is refused, not rounded
    assert parse_usd("25") == 25_000_000
    assert parse_usd("$0.006") == 6_000
    assert parse_usd("-1.5") == -1_500_000
    with pytest.raises(ValueError):
        parse_usd("0.0000001")
    with pytest.raises(ValueError):
        parse_usd("ten")
    assert format_usd(-6_000) == "-$0.006000"
