"""A Retouch job seen as an MCP task (the `io.modelcontextprotocol/tasks` extension, SEP-2663): the task id is the
job id, the task's status is the job's, and a finished job's images become the task's tool result.

No task store: the job is the task's durable state (DynamoDB, behind the API), so any instance of a stateless server
answers `tasks/get` for any task, and a task outlives the connection that made it. Mapping (the extension's rules):
queued/running -> working; succeeded -> completed with the images; failed -> completed with `isError: true` (a job
that failed is a tool error, not a JSON-RPC fault, which is what the extension's `failed` means); canceled ->
cancelled.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from retouch.billing.money import format_usd, from_usd, to_usd

TASKS_EXTENSION = "io.modelcontextprotocol/tasks"
POLL_INTERVAL_MS = 2000
# Each inline preview is at most this many bytes (before base64); larger outputs come as resource links only.
DEFAULT_PREVIEW_BYTES = 1_000_000
TERMINAL_JOB_STATUSES = frozenset({"succeeded", "failed", "canceled"})

_TASK_STATUS = {"queued": "working", "running": "working", "succeeded": "completed", "failed": "completed",
                "canceled": "cancelled"}
_MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


def _iso(epoch_seconds: int | None) -> str:
    return datetime.fromtimestamp(epoch_seconds or 0, tz=UTC).isoformat().replace("+00:00", "Z")


def task_status(job_status: str) -> str:
    return _TASK_STATUS[job_status]


def task_of(job: dict[str, Any]) -> dict[str, Any]:
    """The task fields of a job (CreateTaskResult and GetTaskResult share them)."""
    status = str(job["status"])
    updated = job.get("completed_at") or job.get("started_at") or job.get("created_at")
    return {
        "taskId": job["id"],
        "status": task_status(status),
        "statusMessage": f"job {job['id']} is {status}",
        "createdAt": _iso(job.get("created_at")),
        "lastUpdatedAt": _iso(updated),
        "ttlMs": None,  # kept as long as the job is (JobRetention), which the API enforces, not a per-task clock
        "pollIntervalMs": POLL_INTERVAL_MS,
    }


def settled_cost_micros(job: dict[str, Any]) -> int | None:
    """What the job was charged, from the API's job object (`usage.cost_usd`), once it has ended; None while it is
    queued or running (its `cost_usd` is 0 then, with `reserved_usd` held). A job's terminal write and its settlement
    are one transaction (billing/charges.py), so an ended job's `cost_usd` is final (0 for a failed or canceled one)."""
    cost = (job.get("usage") or {}).get("cost_usd")
    if job.get("status") not in TERMINAL_JOB_STATUSES or isinstance(cost, bool) or not isinstance(cost, int | float):
        return None
    return from_usd(cost)


def job_summary(job: dict[str, Any]) -> dict[str, Any]:
    """What the agent is told about a job (structured content), without inputs or prompts."""
    cost = settled_cost_micros(job)
    return {
        "job_id": job["id"], "status": job["status"], "kind": job.get("kind"), "model": job.get("model"),
        "size": job.get("size"), "quality": job.get("quality"), "output_format": job.get("output_format"),
        "images": [{"url": item.get("url"), "width": item.get("width"), "height": item.get("height"),
                    "content_type": item.get("content_type"), "bytes": item.get("bytes")}
                   for item in job.get("data") or []],
        "cost_micros": cost, "cost_usd": None if cost is None else to_usd(cost), "error": job.get("error"),
        "follow": f"get_job with job_id={job['id']} (or GET /v1/jobs/{job['id']})",
    }


def _cost(micros: int | None) -> str:
    return format_usd(micros) if micros is not None else "not yet settled"


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def outcome_content(job: dict[str, Any], previews: list[bytes | None]) -> dict[str, Any]:
    """A finished job as a CallToolResult: each image as inline image content when its preview is within bounds
    (`previews[i]`, None when it was too large or unreadable), and always as a resource link to the full image."""
    summary = job_summary(job)
    if job["status"] == "failed":
        error = job.get("error") or {}
        return {"content": [_text(f"Job {job['id']} failed: {error.get('message', 'no reason given')} "
                                  f"({error.get('code', 'unknown')}). Nothing was charged for it.")],
                "structuredContent": summary, "isError": True}
    if job["status"] == "canceled":
        return {"content": [_text(f"Job {job['id']} was canceled; its hold was released.")],
                "structuredContent": summary, "isError": True}
    content: list[dict[str, Any]] = [_text(
        f"Job {job['id']} succeeded: {len(summary['images'])} image(s), cost {_cost(summary['cost_micros'])}. "
        f"Full images are linked below (presigned, time-limited URLs).")]
    for index, (item, preview) in enumerate(zip(job.get("data") or [], previews, strict=False)):
        mime = item.get("content_type") or _MIME.get(str(job.get("output_format")), "image/png")
        if preview is not None:
            content.append({"type": "image", "data": base64.b64encode(preview).decode(), "mimeType": mime})
        if item.get("url"):
            content.append({"type": "resource_link", "uri": item["url"], "name": f"{job['id']}-{index}",
                            "mimeType": mime, "size": item.get("bytes"),
                            "description": f"{item.get('width')}x{item.get('height')} output {index} of {job['id']}"})
    return {"content": content, "structuredContent": summary, "isError": False}


def pending_content(job: dict[str, Any]) -> dict[str, Any]:
    """A job still running when a task-less call stops waiting: its id and how to follow it."""
    return {"content": [_text(
        f"Job {job['id']} is {job['status']}; images take up to a few minutes. Call get_job with "
        f"job_id={job['id']} to follow it (or cancel_job to stop it).")],
        "structuredContent": job_summary(job), "isError": False}
