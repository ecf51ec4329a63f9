"""POST /v1/jobs/{job_id}/cancel and DELETE /v1/jobs/{job_id}: changes the caller makes to a job (on the api
function, which may write)."""


from dataclasses import dataclass

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from retouch.auth.standing import AccountReader, require_standing
from retouch.jobs.cancel import CancelDeps, cancel_job
from retouch.jobs.idempotency import HEADER, REPLAYED_HEADER, keyed_request
from retouch.jobs.retention import RetentionDeps, delete_job
from retouch.jobs.view import find_job, render_job
from retouch.models.common import now_epoch
from retouch.models.responses import ErrorBody, JobView
from retouch.web.principal import current_caller
from retouch.web.responses import NOT_FOUND_JOB, UNAUTHORIZED, documented, json_response
from retouch.web.route_groups import RouteGroup


@dataclass(frozen=True)
class JobActionRoutes:
    cancel: CancelDeps
    retention: RetentionDeps
    url_expiry_seconds: int  # of the output URLs in a canceled job's view
    accounts: AccountReader  # a key revoked within the authorizer's cache is refused here (auth/standing.py)


routes = RouteGroup(Router(), JobActionRoutes)
router = routes.router


@router.post("/v1/jobs/<job_id>/cancel", summary="Cancel a queued job", responses={
    200: documented(JobView, "Canceled: its whole hold released; `job.canceled` is sent to its webhook"),
    400: documented(ErrorBody, f"Invalid {HEADER}"),
    401: UNAUTHORIZED,
    404: NOT_FOUND_JOB,
    409: documented(ErrorBody, "Not queued (`job_not_cancelable`: running jobs' provider calls are already paid "
                               f"for; ended jobs are over), or a request with this {HEADER} is still being "
                               "processed (`idempotency_key_in_use`)"),
}, description="Only a `queued` job can be canceled; it ends `canceled` at once, charged nothing.")
def cancel(job_id: str) -> Response[JobView]:
    deps = routes.deps()
    caller = current_caller()
    account_id = caller.account_id
    require_standing(deps.accounts, account_id, caller.key_id)
    if caller.is_device:  # a device token cancels only its own end user's jobs: others are 404
        find_job(deps.retention.jobs, account_id, job_id, end_user=caller.end_user)
    keyed = keyed_request(routes.event().headers.get("idempotency-key"), account_id, "jobs.cancel",
                          {"job_id": job_id},
                          seconds_left=routes.lambda_context().get_remaining_time_in_millis() / 1000)
    outcome = cancel_job(account_id, job_id, deps.cancel, idempotency=keyed)
    headers = {REPLAYED_HEADER: "true"} if outcome.replayed else {}
    return json_response(render_job(outcome.record, deps.retention.store, deps.url_expiry_seconds), 200, headers)


@router.delete("/v1/jobs/<job_id>", summary="Delete an ended job's images", responses={
    204: {"description": "Deleted: its inputs and outputs are gone now; reads of the job are 404 from now on "
                         "(its billing record stays)"},
    401: UNAUTHORIZED,
    404: NOT_FOUND_JOB,
    409: documented(ErrorBody, "The job has not ended (`job_not_deletable`): cancel it or wait for it to end"),
})
def delete(job_id: str) -> Response[None]:
    deps, caller = routes.deps(), current_caller()
    require_standing(deps.accounts, caller.account_id, caller.key_id)
    delete_job(caller.account_id, job_id, deps.retention, now_epoch())
    return Response(status_code=204)
