"""Revenue, upstream cost and margin per model and upstream, over the jobs created since a time.

Revenue is what each succeeded job was charged (its settled `usage.cost_micros`); upstream cost is what its serving
upstream reported (or the routing document's per-image estimate); jobs whose upstream cost is unknown are counted
apart, so a margin is never computed from a guessed zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from retouch.models.records import JobRecord


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

    @property
    def margin_micros(self) -> int:
        """Revenue minus upstream cost, over the jobs whose upstream cost is known."""
        return self.revenue_with_cost_micros - self.upstream_cost_micros


def margins(jobs: Iterable[JobRecord]) -> list[MarginRow]:
    rows: dict[tuple[str, str], MarginRow] = {}
    for job in jobs:
        if job.status != "succeeded":
            continue
        upstream = job.upstream or "unrecorded"
        row = rows.setdefault((job.model, upstream), MarginRow(job.model, upstream))
        usage = job.usage or {}
        revenue = int(usage.get("cost_micros") or 0)
        row.jobs += 1
        row.images += int(usage.get("images") or len(job.outputs))
        row.revenue_micros += revenue
        if job.upstream_cost_micros is None:
            row.jobs_without_cost += 1
        else:
            row.upstream_cost_micros += job.upstream_cost_micros
            row.revenue_with_cost_micros += revenue
    return sorted(rows.values(), key=lambda row: (row.model, row.upstream))
