"""GET /v1/jobs and /v1/jobs/{job_id}: the caller's jobs, read from DynamoDB, URLs presigned at read time."""


from dataclasses import dataclass
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from retouch.jobs.view import find_job, list_jobs, render_job
from retouch.models.common import JobKind, JobStatus
from retouch.models.end_users import MAX_END_USER_CHARS
from retouch.models.responses import ErrorBody, JobList, JobView
from retouch.paging import MAX_PAGE
from retouch.ports import MAX_EPOCH, AccountJobs, JobFilter, JobRepository, ObjectStore
from retouch.web.end_user import end_user_param, request_end_user
from retouch.web.principal import current_caller
from retouch.web.responses import NOT_FOUND_JOB, UNAUTHORIZED, documented, json_response
from retouch.web.route_groups import RouteGroup


@dataclass(frozen=True)
class JobReadRoutes:
    """What the job reads are handed (status and sync functions)."""

    jobs: JobRepository
    account_jobs: AccountJobs
    store: ObjectStore  # presigns the output URLs at read time
    url_expiry_seconds: int


routes = RouteGroup(Router(), JobReadRoutes)
router = routes.router

CreatedAfter = Annotated[int | None, Query(ge=0, le=MAX_EPOCH, description="Only jobs created after this unix time")]
CreatedBefore = Annotated[int | None, Query(ge=0, le=MAX_EPOCH, description="Only jobs created before this unix time")]


@router.get("/v1/jobs", summary="List the account's jobs, newest first", responses={
    200: documented(JobList, "One page of jobs; pass `next_cursor` as `after` (with the same filters) for the next"),
    400: documented(ErrorBody, "Invalid limit, filter or cursor"),
    401: UNAUTHORIZED,
    403: documented(ErrorBody, "A device token asking for another end user's jobs (`end_user_mismatch`)"),
}, description="Served from the account's own index partition (one Query per page, more only when `status` or "
               "`kind` filters skip jobs); a page may then hold fewer than `limit` jobs, as it does when its jobs "
               "would pass Lambda's 6 MB response (long prompts and metadata): follow `next_cursor` while "
               "`has_more`.")
def list_account_jobs(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Jobs per page")] = 20,
    after: Annotated[str | None, Query(description="The previous page's `next_cursor`", max_length=2048)] = None,
    status: Annotated[JobStatus | None, Query(description="Only jobs in this status")] = None,
    kind: Annotated[JobKind | None, Query(description="Only edits or generations")] = None,
    created_after: CreatedAfter = None,
    created_before: CreatedBefore = None,
    user: Annotated[str | None, Query(description="Only this end user's jobs (their own index partition)",
                                      max_length=MAX_END_USER_CHARS)] = None,
) -> Response[JobList]:
    caller = current_caller()
    account_id = caller.account_id
    deps = routes.deps()
    end_user = request_end_user(caller, {}, end_user_param(user, "user") if user is not None else None)
    where = JobFilter(status=status, kind=kind, created_after=created_after, created_before=created_before,
                      end_user=end_user)
    return json_response(list_jobs(deps.account_jobs, deps.store, account_id, limit=limit, after=after, where=where,
                                   url_expiry_seconds=deps.url_expiry_seconds))


@router.get("/v1/jobs/<job_id>", summary="Get a job", responses={
    200: documented(JobView, "The job; when succeeded, also an OpenAI ImagesResponse"),
    401: UNAUTHORIZED,
    404: NOT_FOUND_JOB,
})
def get_job(job_id: str) -> Response[JobView]:
    caller = current_caller()
    deps = routes.deps()
    job = find_job(deps.jobs, caller.account_id, job_id, end_user=caller.end_user if caller.is_device else None)
    return json_response(render_job(job, deps.store, deps.url_expiry_seconds))
