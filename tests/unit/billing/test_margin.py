"""Margin per model and upstream: revenue charged, upstream cost as recorded, margin only where cost is known."""

from __future__ import annotations

from retouch.admin.cli import parser
from retouch.billing.margin import margins
from retouch.models.records import JobRecord


def job(model: str, upstream: str | None, charged: int, cost: int | None, status: str = "succeeded") -> JobRecord:
    return JobRecord(job_id=f"job_{charged}_{cost}", account_id="acct", kind="generation", status=status,
                     model=model, request={}, created_at=1, expires_at=2, upstream=upstream,
                     upstream_cost_micros=cost, usage={"images": 1, "cost_micros": charged})


def test_revenue_cost_and_margin_are_summed_per_model_and_upstream() -> None:
    rows = margins([
        job("gpt-image-2", "modelslab", 53_000, 80_000),
        job("gpt-image-2", "modelslab", 53_000, 40_000),
        job("gpt-image-2", "openai", 6_000, None),
        job("gpt-image-2", "openai", 9_000, 4_000),
        job("gpt-image-1.5", "openai", 9_000, 8_000, status="failed"),
    ])
    summary = [(r.model, r.upstream, r.jobs, r.revenue_micros, r.upstream_cost_micros, r.margin_micros,
                r.jobs_without_cost) for r in rows]
    assert summary == [("gpt-image-2", "modelslab", 2, 106_000, 120_000, -14_000, 0),
                       ("gpt-image-2", "openai", 2, 15_000, 4_000, 5_000, 1)]


def test_the_margin_command_takes_an_iso_time() -> None:
    args = parser().parse_args(["--table", "t", "margin", "--since", "2026-05-01T00:00:00Z"])
    assert args.since == 1_777_593_600
