"""`stream=true` on an image route: the submitted job's events in OpenAI's image streaming format, so the OpenAI
SDKs' `images.edit(..., stream=True)` / `images.generate(..., stream=True)` read them as they read OpenAI.

- `image_edit.partial_image` (`image_generation.partial_image` for generations) for each partial image the worker
  recorded: `type`, `b64_json`, `partial_image_index`, `size`, `quality`, `background`, `output_format`,
  `created_at`;
- `image_edit.completed` for each output image: the same fields (without the index) and `usage` in OpenAI's token
  shape, with Retouch's own `images` and `cost_usd` beside them;
- on failure or cancellation, and when the job outlives the request, an `error` event whose data is
  `{"error": {"message", "type", "param", "code"}}`: what the SDK raises as an APIError. A job that outlives the
  request goes on; the error names it, so `GET /v1/jobs/{id}` (or its events) picks it up.

Images travel as base64 here, as OpenAI sends them; the stream is not bound by Lambda's 6 MB buffered limit.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

from retouch.billing.usage import job_usage_view
from retouch.jobs.event_stream import JobEvent
from retouch.models.records import JobRecord
from retouch.ports import ObjectMissing, ObjectStore
from retouch.web.ended_job_errors import failure_status
from retouch.web.streaming import sse_event

_TOKEN_FIELDS = ("input_tokens", "output_tokens", "total_tokens")


def image_stream(events: Iterator[JobEvent], record: JobRecord, store: ObjectStore) -> Iterator[bytes]:
    """The SSE body for `record`'s job, from its followed `events` (jobs/event_stream.follow)."""
    prefix = "image_edit" if record.kind == "edit" else "image_generation"
    requested = max(1, int(record.request.get("partial_images") or 1))
    last = record
    for event in events:
        last = event.record
        if event.frame is not None:
            frame = event.frame
            try:
                data = store.get(frame.key)
            except ObjectMissing:
                continue  # deleted with its job meanwhile: the terminal event says what happened
            yield sse_event(f"{prefix}.partial_image", {
                "type": f"{prefix}.partial_image", "b64_json": base64.b64encode(data).decode("ascii"),
                "partial_image_index": frame.index % requested, "created_at": frame.at,
                **_described(event.record, frame.output_format)})
        elif event.kind == "job.succeeded":
            yield from _completed(prefix, event.record, store)
            return
        elif event.kind in ("job.failed", "job.canceled"):
            yield _error_event(event.record)
            return
    yield sse_event("error", _error(
        f"Job '{last.job_id}' is still {last.status} and goes on; read it at /v1/jobs/{last.job_id} or follow "
        f"/v1/jobs/{last.job_id}/events.", "job_still_running", "timeout_error"))


def _completed(prefix: str, record: JobRecord, store: ObjectStore) -> Iterator[bytes]:
    usage = openai_usage(record)
    for output in record.outputs:
        try:
            data = store.get(output.key)
        except ObjectMissing:
            yield sse_event("error", _error(f"The outputs of job '{record.job_id}' have expired.",
                                            "outputs_expired", "invalid_request_error"))
            return
        yield sse_event(f"{prefix}.completed", {
            "type": f"{prefix}.completed", "b64_json": base64.b64encode(data).decode("ascii"),
            "created_at": record.completed_at or record.created_at, "usage": usage,
            **_described(record, output.content_type.removeprefix("image/"))})


def _described(record: JobRecord, output_format: str) -> dict[str, Any]:
    """What OpenAI resolves `auto` to, as the job knows it (the upstream's answer, else the request)."""
    result, request = record.result, record.request
    return {"size": result.get("size") or request.get("size", "auto"),
            "quality": result.get("quality") or request.get("quality", "auto"),
            "background": result.get("background") or request.get("background", "auto"),
            "output_format": result.get("output_format") or output_format}


def openai_usage(record: JobRecord) -> dict[str, Any]:
    """OpenAI's usage shape (every token field, 0 when the upstream did not count it), plus Retouch's own."""
    view = job_usage_view(record)
    usage: dict[str, Any] = {name: int(view.get(name) or 0) for name in _TOKEN_FIELDS}
    details = view.get("input_tokens_details")
    usage["input_tokens_details"] = {
        "image_tokens": int(details.get("image_tokens") or 0) if isinstance(details, dict) else 0,
        "text_tokens": int(details.get("text_tokens") or 0) if isinstance(details, dict) else 0,
    }
    return {**view, **usage}


def _error_event(record: JobRecord) -> bytes:
    if record.status == "canceled":
        return sse_event("error", _error(f"Job '{record.job_id}' was canceled.", "job_canceled",
                                         "invalid_request_error"))
    error = record.error
    code = error.code if error is not None else "processing_failed"
    message = error.message if error is not None else "The job failed."
    return sse_event("error", _error(message, code, failure_status(code)[1]))


def _error(message: str, code: str, kind: str) -> dict[str, Any]:
    return {"type": "error", "error": {"message": message, "type": kind, "param": None, "code": code}}
