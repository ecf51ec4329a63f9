"""POST /v1/images/edits and /v1/images/generations: validate, submit, optionally wait, render."""


from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from retouch.billing.rate_limit import Admission
from retouch.config import ApiSettings
from retouch.jobs.event_stream import JobReader, follow
from retouch.jobs.holds import HeldRequests
from retouch.jobs.idempotency import REPLAYED_HEADER, keyed_request, once, replayed_job
from retouch.jobs.submit import SubmitDeps, submit_edit, submit_generation
from retouch.jobs.view import render_job
from retouch.jobs.wait import WaitHistory, wait_for_job
from retouch.models.records import JobRecord
from retouch.models.requests import EditRequest, GenerationRequest
from retouch.models.responses import ErrorBody, JobView
from retouch.ports import JobPartials, RateCounter
from retouch.web.admission import admitted
from retouch.web.client_token_scopes import refuse_account_only_fields
from retouch.web.end_user import request_end_user
from retouch.web.ended_job_errors import ended_job_error
from retouch.web.image_stream import image_stream
from retouch.web.prefer import requested_wait
from retouch.web.principal import current_caller
from retouch.web.request_parsing import parse_edit, parse_generation
from retouch.web.responses import UNAUTHORIZED, documented, json_response
from retouch.web.route_groups import RouteGroup
from retouch.web.streaming import event_stream


@dataclass(frozen=True)
class ImageRoutes:
    """What the image routes are handed (api and sync functions, each with its own settings)."""

    submit: SubmitDeps
    rate_counter: RateCounter  # the account's per-minute limit, counted per submission
    settings: ApiSettings  # body cap, how long a request may wait, whether it waits by default, URL expiry
    # The account's requests held open at once (jobs/holds.py: the sync entry's, or the api's waits and streams);
    # None: not counted.
    holds: HeldRequests | None = None
    partials: JobPartials | None = None  # a job's partial images, for `stream=true` (web/image_stream.py)


routes = RouteGroup(Router(), ImageRoutes)
router = routes.router

# Time kept back from a `Prefer: wait` hold to render the job and answer before the function's timeout.
WAIT_MARGIN_SECONDS = 3
# How long recent held jobs took, per kind, in this environment: later holds read the job mostly near that time.
_WAIT_HISTORY = WaitHistory()

_RESPONSES = {
    200: documented(JobView, "The job succeeded while the request waited (`Prefer: wait`); an OpenAI ImagesResponse"),
    202: documented(JobView, "Accepted; poll the Location"),
    400: documented(ErrorBody, "Invalid request; or, waited, the job was refused (its code, `moderation_blocked`...)"),
    401: UNAUTHORIZED,
    402: documented(ErrorBody, "Insufficient credits (`insufficient_credits`: the price and the balance)"),
    404: documented(ErrorBody, "The job created earlier under this Idempotency-Key was deleted"),
    409: documented(ErrorBody, "A request with this Idempotency-Key is still being processed "
                               "(`idempotency_key_in_use`; see Retry-After); or, waited, the job was canceled "
                               "(`job_canceled`)"),
    413: documented(ErrorBody, "Body too large"),
    415: documented(ErrorBody, "Wrong content type"),
    403: documented(ErrorBody, "A device token outside its scopes or setting `webhook_url`, `webhook_events` or "
                               "`metadata` (`client_token_forbidden`), or naming another end user "
                               "(`end_user_mismatch`)"),
    429: documented(ErrorBody, "`rate_limit_exceeded`, `concurrency_limit_exceeded`, `end_user_limit_exceeded` "
                               "(`param` names the limit), `client_token_spend_cap_exceeded` or (the synchronous "
                               "entry) `sync_hold_limit_exceeded`; see Retry-After"),
    500: documented(ErrorBody, "Waited, the job failed on our side (`processing_failed`, `job_stalled`, ...)"),
    502: documented(ErrorBody, "Waited, the job's upstreams failed (`provider_unavailable`, ...)"),
    503: documented(ErrorBody, "Queue unavailable"),
    504: documented(ErrorBody, "Waited, the job's upstream timed out (`provider_timeout`)"),
}


def _job_response(record: JobRecord, admission: Admission, *, replayed: bool = False,
                  may_wait: bool = True) -> Response[Any]:
    """202 at once, or 200 if the job succeeded within the client's `Prefer: wait` (a job that failed or was canceled
    meanwhile: the error OpenAI would answer, web/ended_job_errors.py); a replay (the same request under the same
    Idempotency-Key) answers alike, with the original job as it is now. Not `may_wait` (the account holds all its
    waits): 202 at once, without Preference-Applied."""
    deps = routes.deps()
    settings = deps.settings
    wait = requested_wait(routes.event().headers.get("prefer"), settings.max_wait_seconds,
                          wait_by_default=settings.wait_by_default) if may_wait else None
    if wait is not None:
        # Never outlive the function: a timed-out hold would answer 5xx for a job already created and charged.
        remaining = _seconds_left() - WAIT_MARGIN_SECONDS
        wait = max(0.0, min(wait, remaining))
    headers = {"Location": f"/v1/jobs/{record.job_id}", **admission.headers}
    if replayed:
        headers[REPLAYED_HEADER] = "true"
    if wait is not None:
        record = wait_for_job(deps.submit.jobs, record, wait, history=_WAIT_HISTORY)
        headers["Preference-Applied"] = f"wait={wait:g}"
        if record.status in ("failed", "canceled"):
            return ended_job_error(record, headers)
    view = render_job(record, deps.submit.store, settings.url_expiry_seconds, ended_in_request=wait is not None)
    return json_response(view, 200 if record.is_terminal else 202, headers)


@router.post("/v1/images/edits", summary="Edit images (OpenAI-compatible)", responses=_RESPONSES,
             description="multipart/form-data with `image`/`image[]` and `mask` files, or JSON with "
                         "`images: [{image_url} or {file_id}]` and `mask: {image_url} or {file_id}` (files from "
                         "`POST /v1/uploads`); answers 202 with the job, or 200 when `Prefer: wait` sees it end.")
def create_edit() -> Response[Any]:  # a JobView, or a stream (`stream=true`): documented in _RESPONSES
    return _submitted("images.edits", parse_edit, submit_edit)


@router.post("/v1/images/generations", summary="Generate images (OpenAI-compatible)", responses=_RESPONSES,
             description="JSON with the same options as edits, without images or mask.")
def create_generation() -> Response[Any]:  # as create_edit
    return _submitted("images.generations", parse_generation, submit_generation)


def _submitted(operation: str, parse: Callable[[dict[str, Any], int], EditRequest | GenerationRequest],
               submit: Callable[..., JobRecord]) -> Response[Any]:
    """Count, parse, then submit once per Idempotency-Key (a repeat replays the first request's job)."""
    event = routes.event()
    deps = routes.deps()
    caller = current_caller()
    account_id = caller.account_id
    with admitted(deps.rate_counter, account_id, caller.key_id) as admission, ExitStack() as hold:
        request = parse(event.raw_event, deps.settings.max_body_bytes)  # reads the request only: nothing written
        if caller.is_device:
            refuse_account_only_fields(request.model_fields_set)
        may_wait = hold.enter_context(_held(account_id, streams=bool(request.stream)))
        end_user = request_end_user(caller, event.headers, request.user)
        if end_user != request.user:
            request = request.model_copy(update={"user": end_user})
        keyed = keyed_request(event.headers.get("idempotency-key"), account_id, operation, request,
                              seconds_left=_seconds_left())
        submit_deps = deps.submit
        outcome = once(keyed, submit_deps.keys,
                       lambda first: submit(admission, request, submit_deps, idempotency=first,
                                            client_token_id=caller.key_id if caller.is_device else None),
                       lambda job_id: replayed_job(submit_deps.jobs, account_id, job_id))
        if request.stream:  # the stream is sent after this returns: its hold is given back when the stream ends
            return _streamed(outcome.record, admission, replayed=outcome.replayed, hold=hold.pop_all(),
                             may_wait=may_wait)
        return _job_response(outcome.record, admission, replayed=outcome.replayed, may_wait=may_wait)


def _held(account_id: str, *, streams: bool) -> AbstractContextManager[bool]:
    """One of the account's holds for a request that will wait or stream (a stream follows its job whatever `Prefer`
    says); yields whether it may wait (jobs/holds.py). Over the limit, the sync entry's submission (its caller needs
    the image) is refused before anything is written; through API Gateway, a wait or a stream is answered at once
    instead (the job as it is; a stream's events so far)."""
    deps = routes.deps()
    waits = requested_wait(routes.event().headers.get("prefer"), deps.settings.max_wait_seconds,
                           wait_by_default=deps.settings.wait_by_default) is not None
    if deps.holds is None or not (waits or streams):
        return nullcontext(True)
    return deps.holds.hold(account_id, _seconds_left())


def _streamed(record: JobRecord, admission: Admission, *, replayed: bool, hold: ExitStack,
              may_wait: bool = True) -> Response[Any]:
    """`stream=true`: the job's partial images and its end as OpenAI streams them, held as long as a wait may
    (through the sync entry, to the job's end; through API Gateway, its events arrive together)."""
    deps = routes.deps()
    if deps.partials is None:
        raise RuntimeError("the image routes were built without the job's partial images")
    seconds = max(0.0, min(deps.settings.max_wait_seconds, _seconds_left() - WAIT_MARGIN_SECONDS)) if may_wait else 0.0
    events = follow(JobReader(deps.submit.jobs, deps.partials), record, after=-1, seconds=seconds)
    headers = {"Location": f"/v1/jobs/{record.job_id}", **admission.headers}
    if replayed:
        headers[REPLAYED_HEADER] = "true"
    return event_stream(_holding(image_stream(events, record, deps.submit.store), hold), headers)


def _holding(chunks: Iterator[bytes], hold: ExitStack) -> Iterator[bytes]:
    """The stream's chunks, its account's hold kept until the last one is sent (or the stream is closed); a stream
    never started ends its hold with its lease."""
    with hold:
        yield from chunks


def _seconds_left() -> float:
    return routes.lambda_context().get_remaining_time_in_millis() / 1000
