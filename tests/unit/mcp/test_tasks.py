"""retouch.mcp.tasks: a job's status as its task's (the tasks extension's rules), and a finished job as a tool
result."""

from __future__ import annotations

import base64

import pytest

from retouch.mcp.tasks import outcome_content, settled_cost_micros, task_of, task_status


@pytest.mark.parametrize(("job", "task"), [("queued", "working"), ("running", "working"), ("succeeded", "completed"),
                                           ("failed", "completed"), ("canceled", "cancelled")])
def test_each_job_status_maps_to_its_task_status(job: str, task: str) -> None:
    # A failed job is a tool error (completed, isError), never the extension's `failed` (a JSON-RPC fault)
    assert task_status(job) == task


def test_the_task_is_the_job_by_id_with_utc_times() -> None:
    task = task_of({"id": "job_1", "status": "running", "created_at": 1_795_399_200, "started_at": 1_795_399_201})
    assert task["taskId"] == "job_1" and task["status"] == "working"
    assert task["createdAt"] == "2026-11-23T02:00:00Z" and task["lastUpdatedAt"] == "2026-11-23T02:00:01Z"
    assert task["pollIntervalMs"] > 0


def test_a_succeeded_job_inlines_previews_within_bounds_and_links_every_image() -> None:
    job = {"id": "job_1", "status": "succeeded", "output_format": "png", "usage": {"images": 2, "cost_usd": 0.006},
           "data": [{"url": "https://s3/0.png", "width": 8, "height": 8, "content_type": "image/png", "bytes": 3},
                    {"url": "https://s3/1.png", "width": 8, "height": 8, "content_type": "image/png", "bytes": 9}]}
    result = outcome_content(job, [b"png", None])  # the second was over the preview bound
    kinds = [item["type"] for item in result["content"]]
    assert kinds == ["text", "image", "resource_link", "resource_link"]
    assert base64.b64decode(result["content"][1]["data"]) == b"png"
    assert "$0.006000" in result["content"][0]["text"] and result["isError"] is False


def test_a_failed_job_is_a_tool_error_that_says_why_and_that_nothing_was_charged() -> None:
    job = {"id": "job_1", "status": "failed", "error": {"code": "content_policy_violation", "message": "refused"}}
    result = outcome_content(job, [])
    assert result["isError"] is True
    assert "content_policy_violation" in result["content"][0]["text"] and "Nothing was charged" in \
        result["content"][0]["text"]


@pytest.mark.parametrize(("status", "usage", "cost"), [
    ("succeeded", {"images": 1, "cost_usd": 0.042, "pricing": {"outputs_usd": 0.042}}, 42_000),
    ("succeeded", {"images": 1, "cost_usd": 0.000001}, 1),
    ("failed", {"images": 0, "cost_usd": 0.0}, 0),  # ended uncharged: settled at nothing
    ("running", {"images": 0, "cost_usd": 0.0, "reserved_usd": 0.25}, None),  # in flight: not settled yet
    ("queued", {"images": 0, "cost_usd": 0.0, "reserved_usd": 0.25}, None),
])
def test_the_cost_is_the_job_view_s_cost_usd_once_the_job_has_ended(status: str, usage: dict[str, object],
                                                                      cost: int | None) -> None:
    assert settled_cost_micros({"id": "job_1", "status": status, "usage": usage}) == cost
