"""GET /v1/jobs/{job_id}/events: the job's story as Server-Sent Events, resumable with `Last-Event-ID`.

Events (jobs/event_stream.py): `job.queued`, `job.running`, `job.partial_image` (a presigned link to each partial
image, not its bytes), then the terminal `job.succeeded` / `job.failed` / `job.canceled` carrying the job as
`GET /v1/jobs/{id}` renders it; each with an `id`. The stream ends after the terminal event. A client that lost the
connection sends the last id it saw as `Last-Event-ID` (or `?last_event_id=`) and gets every later event once.

How long one response follows the job is the function's (`hold_seconds`): through the sync entry (a streaming
Function URL) to the job's end; through API Gateway, what the job has within its 30 s, then the response ends with
`retry:`, and an SSE client (EventSource, or any that honours `retry` and `Last-Event-ID`) reconnects and resumes.
"""

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from retouch.jobs.event_stream import JobEvent, JobReader, follow, parse_last_event_id
from retouch.jobs.holds import RETRY_AFTER_SECONDS, HeldRequests
from retouch.jobs.view import find_job, render_job
from retouch.models.responses import ErrorBody
from retouch.ports import JobPartials, JobRepository, ObjectStore
from retouch.web.principal import current_caller
from retouch.web.responses import NOT_FOUND_JOB, UNAUTHORIZED, documented
from retouch.web.route_groups import RouteGroup
from retouch.web.streaming import event_stream, sse_event, sse_retry

# What a client waits before it reconnects when a response ends before the job does; longer when the response was
# not held because the account holds all its streams.
RECONNECT_MILLISECONDS = 1000
HOLDS_TAKEN_RECONNECT_MILLISECONDS = RETRY_AFTER_SECONDS * 1000
# Time kept back from the function's timeout to end the response cleanly.
HOLD_MARGIN_SECONDS = 3


@dataclass(frozen=True)
class JobEventRoutes:
    """What the events route is handed (status and sync functions)."""

    jobs: JobRepository
    partials: JobPartials
    store: ObjectStore  # presigns partial images and outputs
    url_expiry_seconds: int
    hold_seconds: float  # the longest one response follows the job (the function's timeout bounds it too)
    # The holds per account (jobs/holds.py): a stream following a job takes one, as a held submission does, so one
    # account's streams cannot fill the function's reserved concurrency. Over the limit: refused with 429 (the sync
    # entry's), or the events so far at once, the client resuming a little later (API Gateway's). None: not counted.
    holds: HeldRequests | None = None


routes = RouteGroup(Router(), JobEventRoutes)
router = routes.router


@router.get("/v1/jobs/<job_id>/events", summary="Follow a job's events (Server-Sent Events)", responses={
    200: documented(str, "`text/event-stream`: `job.queued`, `job.running`, `job.partial_image`, then the terminal "
                         "event with the job; each with an `id` to resume from with `Last-Event-ID`"),
    401: UNAUTHORIZED,
    404: NOT_FOUND_JOB,
    400: documented(ErrorBody, "Invalid request"),
    429: documented(ErrorBody, "`sync_hold_limit_exceeded` (the sync entry: the account already holds "
                               "`SyncHoldsPerAccount` requests open), with `Retry-After`"),
}, description="Through the sync entry the stream lasts to the job's end; through API Gateway a response ends "
               "within 30 s with `retry:`, and the client reconnects with `Last-Event-ID` (at once with the events so "
               "far and `retry: 5000` when the account already holds `WaitHoldsPerAccount` streams open).")
def job_events(
    job_id: str,
    last_event_id: Annotated[str | None, Query(max_length=20, description="As the `Last-Event-ID` header")] = None,
) -> Response[Any]:
    deps = routes.deps()
    account_id = current_caller().account_id
    record = find_job(deps.jobs, account_id, job_id)
    after = parse_last_event_id(routes.event().headers.get("last-event-id") or last_event_id)
    left = routes.lambda_context().get_remaining_time_in_millis() / 1000 - HOLD_MARGIN_SECONDS
    seconds = max(0.0, min(deps.hold_seconds, left))
    reconnect_ms = RECONNECT_MILLISECONDS
    with ExitStack() as hold:
        # An ended job's events are sent at once, unheld.
        if deps.holds is not None and not record.is_terminal and not hold.enter_context(
                deps.holds.hold(account_id, left + HOLD_MARGIN_SECONDS)):
            seconds, reconnect_ms = 0.0, HOLDS_TAKEN_RECONNECT_MILLISECONDS
        events = follow(JobReader(deps.jobs, deps.partials), record, after=after, seconds=seconds)
        # The stream is sent after this returns: its hold goes with it, given back when it ends.
        return event_stream(_rendered(events, deps, hold.pop_all(), reconnect_ms))


def _rendered(events: Iterator[JobEvent], deps: JobEventRoutes, hold: ExitStack,
              reconnect_ms: int) -> Iterator[bytes]:
    with hold:
        yield sse_retry(reconnect_ms)
        for event in events:
            yield sse_event(event.kind, _data(event, deps), event_id=event.id)


def _data(event: JobEvent, deps: JobEventRoutes) -> dict[str, Any]:
    record = event.record
    if event.frame is not None:
        frame = event.frame
        return {"job_id": record.job_id, "partial_image_index": frame.index, "output_format": frame.output_format,
                "created_at": frame.at, "url": deps.store.presign_get(frame.key, deps.url_expiry_seconds)}
    if record.is_terminal and event.kind == f"job.{record.status}":
        return render_job(record, deps.store, deps.url_expiry_seconds, images_as_urls=True).model_dump(
            mode="json", exclude_none=True)
    status = event.kind.removeprefix("job.")
    # Each event as the job was then: job.queued comes before any start (the record read now may have one).
    return {"job_id": record.job_id, "status": status, "created_at": record.created_at,
            "started_at": None if status == "queued" else record.started_at}
