"""How a claimed job ended: the worker decides it (jobs/process), billing prices it (billing/charges), the job
repository writes it as the job's terminal transition (data/jobs)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from retouch.models.records import JobError, ProducedOutputs, StoredOutput


@dataclass(frozen=True)
class JobOutcome:
    status: Literal["succeeded", "failed"]
    completed_at: int
    outputs: tuple[StoredOutput, ...] = ()
    # What the provider resolved (size, quality, background, output_format): quality prices the images.
    result: dict[str, Any] = field(default_factory=dict)
    # The job's stored usage: the provider's token counts, then (once billed) images produced and cost.
    usage: dict[str, Any] | None = None
    error: JobError | None = None
    # Routing: the upstream that produced the outputs and what it charged us, when known.
    upstream: str | None = None
    upstream_cost_micros: int | None = None
    upstream_cost_reported: bool = False  # the upstream reported that cost itself: the charge is at least it

    @classmethod
    def succeeded(cls, produced: ProducedOutputs, *, at: int) -> JobOutcome:
        return cls(status="succeeded", completed_at=at, outputs=tuple(produced.outputs), result=produced.result,
                   usage=produced.usage, upstream=produced.upstream,
                   upstream_cost_micros=produced.upstream_cost_micros,
                   upstream_cost_reported=produced.upstream_cost_reported)

    @classmethod
    def failed(cls, code: str, message: str, *, at: int) -> JobOutcome:
        return cls(status="failed", completed_at=at, error=JobError(code=code, message=message))

    def with_usage(self, usage: dict[str, Any]) -> JobOutcome:
        return replace(self, usage=usage)

    def stored_fields(self) -> dict[str, Any]:
        """The job's attributes the terminal transition sets (besides `status`)."""
        if self.status == "succeeded":
            return {"outputs": [output.model_dump() for output in self.outputs], "usage": self.usage,
                    "result": self.result, "completed_at": self.completed_at, "error": None,
                    "upstream": self.upstream, "upstream_cost_micros": self.upstream_cost_micros,
                    "upstream_cost_reported": self.upstream_cost_reported}
        fields: dict[str, Any] = {"error": self.error.model_dump() if self.error else None,
                                  "completed_at": self.completed_at}
        if self.usage is not None:
            fields["usage"] = self.usage
        return fields
