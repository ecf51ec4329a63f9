"""Revenue, upstream cost and margin per model and upstream, over the jobs created since a time.

Revenue is what each succeeded job was charged (its settled `usage.cost_micros`); upstream cost is what its serving
upstream reported (or the routing document's per-image estimate, which prices output images only: the job's inputs,
its prompt and input image tokens at the model's rates as the pricing rule counted them, `usage.pricing`, are added
to it); jobs whose upstream cost is unknown are counted apart, so a margin is never computed from a guessed zero.
`input_cost_micros` shows that input cost on its own, beside `input_revenue_micros`, what the inputs were charged.

Losses show too: an upstream that accepted a job (answered it, or took it as an asynchronous job), timed out on it or
answered it unusably, and did not serve its success, may still have charged for it (a retried job, a fallback after
its job failed, a job that then failed: routing/paid_attempts.py).
Those unserved paid calls are counted per upstream, of every ended job, with their cost as reported or estimated from
the routing document's `cost_per_image_usd` (the job's `n` images), and `net_margin_micros` takes them off.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from retouch.billing.usage import parse_day
from retouch.errors import InvalidRequest
from retouch.models.console_routes import MarginReport, MarginRowView
from retouch.models.records import JobRecord
from retouch.ports import JobHistory
from retouch.routing.document import RoutingDocument
from retouch.routing.paid_attempts import unserved_paid_calls


@dataclass
class MarginRow:
    model: str
    upstream: str
    jobs: int = 0
    images: int = 0
    revenue_micros: int = 0
    upstream_cost_micros: int = 0
    jobs_without_cost: int = 0  # their revenue is in `revenue_micros`, but not in `margin_micros`
    revenue_with_cost_micros: int = 0
    # The inputs (prompt and input image tokens) at the upstream's rates, and what they were charged.
    input_cost_micros: int = 0
    input_revenue_micros: int = 0
    # Calls this upstream accepted that did not serve a succeeded job (possibly paid), and their known cost.
    unserved_paid_calls: int = 0
    unserved_cost_micros: int = 0
    unserved_without_cost: int = 0  # of those, how many have neither a reported cost nor an estimate

    @property
    def margin_micros(self) -> int:
        """Revenue minus upstream cost, over the jobs whose upstream cost is known."""
        return self.revenue_with_cost_micros - self.upstream_cost_micros

    @property
    def net_margin_micros(self) -> int:
        """The margin less what unserved calls cost (where known)."""
        return self.margin_micros - self.unserved_cost_micros


def cost_estimates(document: RoutingDocument) -> dict[str, int]:
    """Upstream name -> the routing document's per-image estimate, in micro-dollars (only where it gives one)."""
    return {route.name: int(route.cost_per_image_usd * 1_000_000)
            for routes in document.models.values() for route in routes if route.cost_per_image_usd is not None}


def margins(jobs: Iterable[JobRecord], cost_per_image_micros: Mapping[str, int] | None = None) -> list[MarginRow]:
    """Rows per (model, upstream). `cost_per_image_micros`: per upstream name, the routing document's estimate."""
    estimates = cost_per_image_micros or {}
    rows: dict[tuple[str, str], MarginRow] = {}

    def row_of(model: str, upstream: str) -> MarginRow:
        return rows.setdefault((model, upstream), MarginRow(model, upstream))

    for job in jobs:
        if job.is_terminal:
            for call in unserved_paid_calls(job):
                row = row_of(job.model, call.upstream)
                row.unserved_paid_calls += 1
                per_image = estimates.get(call.upstream)
                if call.cost_micros is not None:
                    row.unserved_cost_micros += call.cost_micros
                elif per_image is not None:
                    row.unserved_cost_micros += per_image * int(job.request.get("n") or 1)
                else:
                    row.unserved_without_cost += 1
        if job.status != "succeeded":
            continue
        row = row_of(job.model, job.upstream or "unrecorded")
        usage = job.usage or {}
        revenue = int(usage.get("cost_micros") or 0)
        row.jobs += 1
        row.images += int(usage.get("images") or len(job.outputs))
        row.revenue_micros += revenue
        stored_pricing = usage.get("pricing")
        pricing: dict[str, Any] = stored_pricing if isinstance(stored_pricing, dict) else {}
        input_cost = int(pricing.get("inputs_cost_micros") or 0)
        row.input_cost_micros += input_cost
        row.input_revenue_micros += int(pricing.get("inputs_micros") or 0)
        if job.upstream_cost_micros is None:
            row.jobs_without_cost += 1
        else:
            # A reported cost is the whole call's; the routing's estimate is per output image only.
            row.upstream_cost_micros += job.upstream_cost_micros + (0 if job.upstream_cost_reported else input_cost)
            row.revenue_with_cost_micros += revenue
    return sorted(rows.values(), key=lambda row: (row.model, row.upstream))


# ---- the operator console's margin report (GET /operator/margin): the rows above, over a range of days -------------

MARGIN_DEFAULT_DAYS = 30
MARGIN_MAX_DAYS = 92
MARGIN_GROUPINGS = ("day",)


def _row_view(row: MarginRow, day: str | None) -> MarginRowView:
    return MarginRowView(date=day, model=row.model, upstream=row.upstream, jobs=row.jobs, images=row.images,
                         revenue_micros=row.revenue_micros, upstream_cost_micros=row.upstream_cost_micros,
                         margin_micros=row.margin_micros, jobs_without_cost=row.jobs_without_cost,
                         input_cost_micros=row.input_cost_micros, input_revenue_micros=row.input_revenue_micros,
                         unserved_paid_calls=row.unserved_paid_calls, unserved_cost_micros=row.unserved_cost_micros,
                         unserved_without_cost=row.unserved_without_cost, net_margin_micros=row.net_margin_micros)


def margin_report(account_ids: Iterable[str], jobs: JobHistory, since: str | None, until: str | None,
                  group_by: str | None, cost_per_image_micros: Mapping[str, int],
                  today: date | None = None) -> MarginReport:
    """Revenue, upstream cost and margin per model and upstream (and UTC day of creation with `group_by=day`) over
    the jobs every account created in [since, until] (UTC days, inclusive; the last 30 days by default, at most
    92). Reads every account's jobs in the range (an operator's report, never a customer's request path)."""
    if group_by not in (None, "", *MARGIN_GROUPINGS):
        raise InvalidRequest("'group_by' must be 'day' or left out.", param="group_by")
    last = parse_day(until, "until", today or datetime.now(UTC).date())
    first = parse_day(since, "since", last - timedelta(days=MARGIN_DEFAULT_DAYS - 1))
    if first > last:
        raise InvalidRequest("'since' must not be after 'until'.", param="since")
    if (last - first).days >= MARGIN_MAX_DAYS:
        raise InvalidRequest(f"The range must be at most {MARGIN_MAX_DAYS} days.", param="since")
    start = int(datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp())
    end = int(datetime(last.year, last.month, last.day, tzinfo=UTC).timestamp()) + 86_400 - 1
    by_day: dict[str | None, list[JobRecord]] = {}
    for account_id in account_ids:
        for job in jobs.created_between(account_id, start, end):
            day = datetime.fromtimestamp(job.created_at, UTC).date().isoformat() if group_by else None
            by_day.setdefault(day, []).append(job)
    rows = [_row_view(row, day) for day in sorted(by_day, key=lambda day: day or "")
            for row in margins(by_day[day], cost_per_image_micros)]
    return MarginReport(since=start, until=end, group_by=[group_by] if group_by else [], data=rows,
                        total_revenue_micros=sum(row.revenue_micros for row in rows),
                        total_upstream_cost_micros=sum(row.upstream_cost_micros for row in rows),
                        total_net_margin_micros=sum(row.net_margin_micros for row in rows))
