"""What each MCP tool and task method does, over the Retouch HTTP API (retouch/mcp/api_client.py).

Independent of the MCP SDK (retouch/mcp/server.py binds these to it): each method takes plain arguments and answers
the wire dict of a CallToolResult, a CreateTaskResult or a task. An image tool validates its arguments with the
API's request model, checks the spend guard, then submits; refusals before the submit make no job. Nothing here logs
a prompt, an image or a key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from retouch.billing.money import format_usd
from retouch.mcp.api_client import ApiRefused, RetouchApi
from retouch.mcp.spend_guard import SpendGuard, SpendLimitExceeded
from retouch.mcp.tasks import (
    TERMINAL_JOB_STATUSES,
    job_summary,
    outcome_content,
    pending_content,
    task_of,
)
from retouch.mcp.tools import (
    ImageReference,
    ToolArgumentsInvalid,
    ToolSpec,
    check_known_arguments,
    edit_references,
    tool_specs,
    validated_options,
)
from retouch.models.common import JOB_ID_PATTERN

_WAIT_POLL_SECONDS = 1.0
# A job id goes into the API's path (/v1/jobs/{id}): anything but a job id's shape ("../account") is refused unsent.
_JOB_ID = re.compile(JOB_ID_PATTERN)


class TaskNotFound(Exception):
    """No job with that id on this key's account (or it has expired)."""


@dataclass(frozen=True)
class ServiceOptions:
    allow_paths: bool  # edit_image may name local files (stdio only: a remote server must not read its own disk)
    max_wait_seconds: float  # the longest a task-less image call waits before answering with the job id
    preview_bytes: int  # the most bytes of output images inlined in one result (the rest are links only)


def _error(message: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": message}], "isError": True}


def refusal_text(exc: ApiRefused) -> str:
    code = f" ({exc.code})" if exc.code else ""
    hint = {402: " Add credit (the operator runs retouch-admin add-credit) and try again.",
            429: " Wait a little and try again; the account's limits are per minute and per job in flight."}
    return f"Retouch refused: {exc.message}{code}.{hint.get(exc.status, '')}"


class RetouchMcpService:
    def __init__(self, api: RetouchApi, guard: SpendGuard, options: ServiceOptions) -> None:
        self._api = api
        self._guard = guard
        self._options = options
        self.tools: list[ToolSpec] = tool_specs(allow_paths=options.allow_paths)
        self._tools = {spec.name: spec for spec in self.tools}

    # ---- tools ------------------------------------------------------------------------------------------

    async def call(self, name: str, arguments: dict[str, Any], *, as_task: bool) -> dict[str, Any]:
        """A tool's result; an image tool answers a CreateTaskResult when `as_task` (the client declared tasks)."""
        try:
            check_known_arguments(self._tools[name], arguments)  # the server answers an unknown tool's name itself
            if name in ("generate_image", "edit_image"):
                return await self._submit(name, arguments, as_task=as_task)
            if name == "quote":
                return self._quote(arguments)
            return await self._read(name, arguments)
        except ToolArgumentsInvalid as exc:
            return _error(f"Invalid argument{f' {exc.param!r}' if exc.param else ''}: {exc}")
        except SpendLimitExceeded as exc:
            return _error(str(exc))
        except ApiRefused as exc:
            return _error(refusal_text(exc))

    async def _read(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        if name == "get_job":
            job = await self._api.job(_job_id(arguments))
            if job["status"] in TERMINAL_JOB_STATUSES:
                return await self._outcome(job)
            return pending_content(job)
        if name == "cancel_job":
            job = await self._api.cancel(_job_id(arguments))
            return _structured(f"Job {job['id']} is {job['status']}.", job_summary(job))
        if name == "list_jobs":
            params: dict[str, Any] = {key: arguments[key] for key in ("limit", "after", "status") if key in arguments}
            page = await self._api.jobs(params)
            jobs = [job_summary(job) for job in page.get("data") or []]
            return _structured(f"{len(jobs)} job(s).", {"jobs": jobs, "has_more": page.get("has_more", False),
                                                           "next_cursor": page.get("next_cursor")})
        if name == "get_balance":
            account = await self._api.account()
            return _structured(f"Available credit: {format_usd(int(account['balance_micros']))}; "
                               f"{account.get('in_flight', 0)} job(s) in flight.", account)
        if name == "list_models":
            models = await self._api.models()
            return _structured(f"{len(models.get('data') or [])} model(s).", models)
        raise ToolArgumentsInvalid(f"Unknown tool: {name}")

    def _quote(self, arguments: dict[str, Any]) -> dict[str, Any]:
        options = validated_options(arguments)
        hold = self._guard.hold_micros(options)
        limit = self._guard.max_micros_per_call
        allowed = limit is None or hold <= limit
        return _structured(
            f"A {options.n}-image {options.model} call at quality {options.quality}, size {options.size} holds "
            f"{format_usd(hold)} (the most it can cost; the unused part is released when it ends). "
            + _limit_verdict(limit, allowed),
            {"hold_micros": hold, "max_micros_per_call": limit, "allowed": allowed})

    async def _submit(self, name: str, arguments: dict[str, Any], *, as_task: bool) -> dict[str, Any]:
        options = validated_options(arguments)
        wait = _wait_seconds(arguments, self._options.max_wait_seconds)
        references, mask = (edit_references(arguments, allow_paths=self._options.allow_paths) if name == "edit_image"
                            else ([], None))
        self._guard.check(options, len(references) + (mask is not None))  # before anything is uploaded or submitted
        body = options.model_dump(mode="json", include=set(arguments) & set(options.model_fields), exclude_none=True)
        if name == "edit_image":
            body["images"] = [await self._api_reference(reference) for reference in references]
            if mask is not None:
                body["mask"] = await self._api_reference(mask)
        job = await self._api.submit("edit" if name == "edit_image" else "generation", body)
        if as_task:
            return {"resultType": "task", **task_of(job)}
        return await self._wait(job, wait)

    async def _api_reference(self, reference: ImageReference) -> dict[str, str]:
        if reference.kind == "path":
            return {"file_id": await self._api.upload(Path(reference.value).expanduser())}
        return reference.api_reference()

    async def _wait(self, job: dict[str, Any], seconds: float) -> dict[str, Any]:
        with anyio.move_on_after(min(max(seconds, 0.0), self._options.max_wait_seconds)):
            while job["status"] not in TERMINAL_JOB_STATUSES:
                await anyio.sleep(_WAIT_POLL_SECONDS)
                job = await self._api.job(job["id"])
        if job["status"] in TERMINAL_JOB_STATUSES:
            return await self._outcome(job)
        return pending_content(job)

    async def _outcome(self, job: dict[str, Any]) -> dict[str, Any]:
        """The finished job's result: its images inlined in order while their total stays within the preview budget
        (one answer must fit Lambda's 6 MB after base64), every image linked."""
        budget = self._options.preview_bytes
        previews: list[bytes | None] = []
        for item in job.get("data") or []:
            preview = await self._api.image_bytes(item["url"], budget) if item.get("url") and budget > 0 else None
            budget -= len(preview or b"")
            previews.append(preview)
        return outcome_content(job, previews)

    # ---- tasks ------------------------------------------------------------------------------------------

    async def _job_for_task(self, task_id: str) -> dict[str, Any]:
        if not _JOB_ID.fullmatch(task_id):
            raise TaskNotFound(task_id)
        try:
            return await self._api.job(task_id)
        except ApiRefused as exc:
            if exc.status in (400, 404, 410):
                raise TaskNotFound(task_id) from exc
            raise

    async def get_task(self, task_id: str) -> dict[str, Any]:
        """The task of job `task_id`, with its result once the job has ended (the extension's GetTaskResult)."""
        job = await self._job_for_task(task_id)
        task = task_of(job)
        if task["status"] == "completed":
            task["result"] = await self._outcome(job)
        return task

    async def cancel_task(self, task_id: str) -> None:
        """Ask the API to cancel the job; a job that already ended keeps its status (cancellation is cooperative)."""
        if not _JOB_ID.fullmatch(task_id):
            raise TaskNotFound(task_id)
        try:
            await self._api.cancel(task_id)
        except ApiRefused as exc:
            if exc.status in (400, 404, 410):
                raise TaskNotFound(task_id) from exc
            if exc.status != 409:  # 409: the job has already ended
                raise

    async def update_task(self, task_id: str) -> None:
        """Retouch tasks never ask for input; an update of a known task is acknowledged and ignored."""
        await self._job_for_task(task_id)


def _limit_verdict(limit: int | None, allowed: bool) -> str:
    if limit is None:
        return "This connection has no per-call limit; the account's credit and limits apply."
    if allowed:
        return f"Within this connection's per-call limit of {format_usd(limit)}."
    return f"Above this connection's per-call limit of {format_usd(limit)}: it would be refused."


def _wait_seconds(arguments: dict[str, Any], default: float) -> float:
    value = arguments.get("wait_seconds", default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ToolArgumentsInvalid("'wait_seconds' must be a number of seconds, 0 or more.", param="wait_seconds")
    return float(value)


def _job_id(arguments: dict[str, Any]) -> str:
    job_id = arguments.get("job_id")
    if not isinstance(job_id, str) or not job_id:
        raise ToolArgumentsInvalid("'job_id' is required.", param="job_id")
    if not _JOB_ID.fullmatch(job_id):
        raise ToolArgumentsInvalid(f"'job_id' must be a job id (job_ followed by 24 letters or digits), not "
                                   f"{job_id[:64]!r}.", param="job_id")
    return job_id


def _structured(text: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], "structuredContent": data, "isError": False}
