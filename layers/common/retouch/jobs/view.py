"""Rendering a job for clients: presigned output URLs (or base64) at read time."""

from __future__ import annotations

import base64
import json
import re
from typing import Literal

from retouch.billing.usage import job_usage_view
from retouch.errors import InvalidRequest, JobNotFound, OutputsExpired
from retouch.models.records import JobRecord
from retouch.models.responses import ImageData, JobErrorView, JobList, JobView, UpstreamAttemptView
from retouch.models.webhooks import webhook_view
from retouch.ports import AccountJobs, JobFilter, JobRepository, ObjectMissing, ObjectStore
from retouch.routing.paid_attempts import possibly_paid_calls

_JOB_ID = re.compile(r"^job_[A-Za-z0-9]{24}$")
# Lambda responses stop at 6 MB: inline base64 up to this much, then answer presigned URLs for the rest.
INLINE_BASE64_BUDGET = 5 * 1024 * 1024


def find_job(jobs: JobRepository, account_id: str, job_id: str, *, end_user: str | None = None) -> JobRecord:
    """The caller's job; another account's job, one its owner deleted, or one whose submit has not held its price yet
    (it may never be accepted) is indistinguishable from a missing one (404). `end_user`: a device token's caller,
    who sees only its own end user's jobs."""
    record = jobs.get(job_id) if _JOB_ID.match(job_id) else None
    if (record is None or record.account_id != account_id or record.deleted_at is not None
            or record.hold_pending is not None or (end_user is not None and record.end_user != end_user)):
        raise JobNotFound(f"No job found with id '{job_id}'.", param="job_id")
    return record


def _as_base64(record: JobRecord, *, images_as_urls: bool, ended_in_request: bool) -> bool:
    """b64_json only in the answer of the request that submitted the job and saw it end (Prefer: wait, the synchronous
    entry), when it asked for b64_json or for nothing (OpenAI's default for GPT image models, so its sample code works).
    Any later read answers presigned URLs: a loop of GETs would otherwise stream megabytes per call from the function
    (`response_format_served` says which was served)."""
    if images_as_urls or not ended_in_request:
        return False
    return record.request.get("response_format") in (None, "b64_json")


def render_job(record: JobRecord, store: ObjectStore, url_expiry_seconds: int, *,
               images_as_urls: bool = False, ended_in_request: bool = False) -> JobView:
    """`images_as_urls`: presigned URLs even for b64_json jobs (webhook payloads, lists stay small).
    `ended_in_request`: the request that submitted the job waited for it (Prefer: wait, the synchronous entry); only
    that answer inlines base64."""
    as_base64 = _as_base64(record, images_as_urls=images_as_urls, ended_in_request=ended_in_request)
    inline_left = INLINE_BASE64_BUDGET
    data = []
    if record.status == "succeeded":
        for output in record.outputs:
            image = ImageData(width=output.width, height=output.height, content_type=output.content_type,
                              bytes=output.bytes)
            encoded_size = 4 * -(-output.bytes // 3)
            if as_base64 and encoded_size <= inline_left:
                inline_left -= encoded_size
                try:
                    image.b64_json = base64.b64encode(store.get(output.key)).decode()
                except ObjectMissing as exc:
                    raise OutputsExpired(f"The outputs of job '{record.job_id}' have expired.") from exc
            else:
                image.url = store.presign_get(output.key, url_expiry_seconds)
            data.append(image)
    served: Literal["url", "b64_json"] | None = None
    if data:
        served = "b64_json" if all(image.b64_json is not None for image in data) else "url"
    result = record.result
    return JobView(
        id=record.job_id,
        kind=record.kind,
        status=record.status,
        model=record.model,
        created=record.created_at,
        created_at=record.created_at,
        started_at=record.started_at,
        completed_at=record.completed_at,
        request=record.request,
        size=result.get("size", record.request.get("size")),
        quality=result.get("quality", record.request.get("quality")),
        output_format=result.get("output_format", record.request.get("output_format")),
        # As OpenAI answers it: settled, never `auto` (jobs/outputs_storing.py).
        background=result.get("background") or _asked_background(record.request.get("background")),
        data=data,
        response_format_served=served,
        usage=job_usage_view(record),
        error=JobErrorView(**record.error.model_dump()) if record.error and record.status == "failed" else None,
        metadata=record.metadata,
        webhook=webhook_view(record.webhook),
        user=record.end_user,
        # What the upstream charged stays on the record (margin reports), not in the customer's view.
        upstream=record.upstream,
        upstream_attempts=[UpstreamAttemptView(**attempt.model_dump(exclude={"cost_micros"}))
                           for attempt in record.upstream_attempts],
        possibly_paid_attempts=len(possibly_paid_calls(record)),
    )


def _asked_background(asked: object) -> str | None:
    return asked if asked in ("transparent", "opaque") else None


def list_jobs(jobs: AccountJobs, store: ObjectStore, account_id: str, *, limit: int, after: str | None,
              where: JobFilter, url_expiry_seconds: int) -> JobList:
    """One page of the account's jobs, newest first; outputs as presigned URLs (a page of base64 would not fit).

    A page also stops short of MAX_PAGE_BYTES (its jobs' prompts and metadata can be large): it then holds the jobs
    that fit, at least one, and its cursor reads on from the last of them (a second, shorter query finds it)."""
    while True:
        try:
            records, cursor = jobs.page(account_id, limit=limit, cursor=after, where=where)
        except ValueError:
            raise InvalidRequest("'after' must be a next_cursor of this account's job listing (of the same `user`, "
                                 "when one is given) that lies within created_after/created_before; status and kind "
                                 "may change between pages.", param="after") from None
        views = [render_job(record, store, url_expiry_seconds, images_as_urls=True) if record.hold_pending is None
                 else None for record in records]  # a job still taking its hold is not listed (see find_job)
        fitting = _records_within(views, MAX_PAGE_BYTES)
        if fitting == len(records):
            return JobList(data=[view for view in views if view is not None], has_more=cursor is not None,
                           next_cursor=cursor)
        limit = fitting


# Lambda answers at most 6 MB, the response's JSON envelope included, in which the body is a string again: a page's
# jobs, as that envelope spells them, stay within this, with room for the escapes' growth and the headers.
MAX_PAGE_BYTES = 4_000_000


def _records_within(views: list[JobView | None], budget: int) -> int:
    """How many of the page's records (None: one not listed) fit in `budget` bytes, at least one."""
    used = 0
    for index, view in enumerate(views):
        if view is not None:
            used += len(json.dumps(view.model_dump_json(exclude_none=True)))
        if used > budget:
            return max(1, index)
    return len(views)
