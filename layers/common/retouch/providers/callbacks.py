"""Upstreams that say "done" themselves: an asynchronous upstream whose documentation shows a callback (fal's
webhooks) is given a URL at submit, and its call to it wakes the job at once (jobs/upstream_callbacks.py), so the
finished image does not wait for the next delayed poll. The polls stay, as the fallback for a callback that never
comes."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from retouch.providers.base import InputImage
from retouch.providers.upstream import Outcome


@runtime_checkable
class TakesCallbacks(Protocol):
    def submit_with_callback(self, *, images: list[InputImage], mask: InputImage | None, options: dict[str, Any],
                             callback_url: str) -> Outcome:
        """As `submit`, asking the upstream to call `callback_url` when the job is done."""
        ...


def callback_path(upstream_kind: str, job_id: str) -> str:
    """The callback route's path for a job (web/routes/upstream_callbacks.py)."""
    return f"/v1/upstream-callbacks/{upstream_kind}/{job_id}"
