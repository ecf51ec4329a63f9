"""Margin per model and upstream: revenue charged, upstream cost as recorded, margin only where cost is known."""

from __future__ import annotations

from retouch.admin.cli import parser
from retouch.billing.margin import margins
from retouch.models.records import JobRecord, UpstreamAttempt


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


def attempt(upstream: str, outcome: str, upstream_job_id: str | None = None, cost: int | None = None,
            ) -> UpstreamAttempt:
    return UpstreamAttempt.model_validate({"upstream": upstream, "outcome": outcome, "upstream_job_id": upstream_job_id,
                                           "cost_micros": cost, "at": 1})


def test_calls_an_upstream_accepted_without_serving_a_success_show_as_losses() -> None:
    # Given a job served by openai after modelslab's asynchronous job failed; a failed job fal took (pending, no cost
    # reported, n=2) and a job that failed after runflow answered (its images unreadable, cost reported); and a job
    # modelslab served through a pending call (one upstream job: no loss)
    fell_back = job("gpt-image-2", "openai", 9_000, 4_000).model_copy(update={"upstream_attempts": [
        attempt("modelslab", "pending", "ml-1"), attempt("modelslab", "unavailable", "ml-1"),
        attempt("openai", "succeeded", "oa-1", 4_000)]})
    lost_at_fal = job("gpt-image-2", None, 0, None, status="failed").model_copy(update={
        "request": {"n": 2}, "job_id": "job_fal",
        "upstream_attempts": [attempt("fal", "pending", "fal-1"), attempt("fal", "unavailable", "fal-1")]})
    lost_at_runflow = job("gpt-image-2", None, 0, None, status="failed").model_copy(update={
        "job_id": "job_runflow", "upstream_attempts": [attempt("runflow", "succeeded", "rf-1", 7_000),
                                                       attempt("runflow", "unavailable", None)]})
    served_async = job("gpt-image-2", "modelslab", 53_000, 40_000).model_copy(update={"upstream_attempts": [
        attempt("modelslab", "pending", "ml-2"), attempt("modelslab", "succeeded", "ml-2", 40_000)]})
    # When margins are computed with modelslab's and fal's per-image estimates
    rows = margins([fell_back, lost_at_fal, lost_at_runflow, served_async], {"modelslab": 30_000, "fal": 25_000})
    summary = {r.upstream: (r.jobs, r.unserved_paid_calls, r.unserved_cost_micros, r.unserved_without_cost,
                            r.margin_micros, r.net_margin_micros) for r in rows}
    # Then each upstream's unserved calls are counted, costed as reported or estimated, and netted off its margin
    assert summary == {"fal": (0, 1, 50_000, 0, 0, -50_000),
                       "modelslab": (1, 1, 30_000, 0, 13_000, -17_000),
                       "openai": (1, 0, 0, 0, 5_000, 5_000),
                       "runflow": (0, 1, 7_000, 0, 0, -7_000)}
    # And without estimates the unreported ones are counted as of unknown cost, never as free
    unknown = {r.upstream: (r.unserved_cost_micros, r.unserved_without_cost) for r in margins([fell_back, lost_at_fal])}
    assert unknown == {"fal": (0, 1), "modelslab": (0, 1), "openai": (0, 0)}


def test_the_routing_documents_per_image_costs_become_the_estimates() -> None:
    from retouch.billing.margin import cost_estimates
    from retouch.routing.document import RoutingDocument

    openai = [{"name": "openai", "kind": "openai"}]
    document = RoutingDocument.model_validate({"models": {
        "gpt-image-2": [{"name": "modelslab", "kind": "modelslab", "cost_per_image_usd": "0.035"}, *openai],
        "gpt-image-1.5": openai, "gpt-image-1-mini": openai}})
    assert cost_estimates(document) == {"modelslab": 35_000}
    assert parser().parse_args(["--table", "t", "margin", "--since", "2026-05-01"]).routing == "default.json"


def test_margin_shows_input_cost_and_adds_it_to_an_estimated_upstream_cost() -> None:
    # Given two openai jobs whose inputs cost $0.10 at the token rates (charged $0.12), one with the routing's
    # per-image estimate of $0.006 as its upstream cost, one whose upstream reported $0.11 for the whole call
    pricing = {"inputs_cost_micros": 100_000, "inputs_micros": 120_000}
    estimated = job("gpt-image-2", "openai", 126_000, 6_000)
    estimated.usage = {"images": 1, "cost_micros": 126_000, "pricing": pricing}
    reported = job("gpt-image-2", "openai", 127_000, 110_000)
    reported.usage = {"images": 1, "cost_micros": 127_000, "pricing": pricing}
    reported.upstream_cost_reported = True

    # When the margin is computed
    [row] = margins([estimated, reported])

    # Then the input cost shows, and counts in the upstream cost only where the cost was an output-only estimate
    assert (row.input_cost_micros, row.input_revenue_micros) == (200_000, 240_000)
    assert row.upstream_cost_micros == 6_000 + 100_000 + 110_000
    assert row.margin_micros == 253_000 - 216_000
