"""POST /v1/jobs/{job_id}/webhooks/redeliver: send the job's latest event again, with the same webhook-id."""

from dataclasses import dataclass
from typing import cast

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from retouch.auth.standing import AccountReader, require_standing
from retouch.jobs.view import find_job
from retouch.models.responses import ErrorBody
from retouch.models.webhooks import RedeliveryView, WebhookEventType
from retouch.ports import JobRepository, WebhookQueue
from retouch.web.principal import current_caller
from retouch.web.responses import NOT_FOUND_JOB, UNAUTHORIZED, documented, json_response
from retouch.web.route_groups import RouteGroup
from retouch.webhooks.events import RedeliveryBudget, redeliver_latest


@dataclass(frozen=True)
class WebhookRoutes:
    jobs: JobRepository
    queue: WebhookQueue  # a redelivery is queued, as every event is
    accounts: AccountReader  # a key revoked within the authorizer's cache is refused here (auth/standing.py)
    redeliveries: RedeliveryBudget  # manual redeliveries per job per hour, counted on the job item


routes = RouteGroup(Router(), WebhookRoutes)
router = routes.router


@router.post("/v1/jobs/<job_id>/webhooks/redeliver", summary="Redeliver the job's latest webhook event", responses={
    202: documented(RedeliveryView, "Queued; the attempts show in the job's `webhook.deliveries`"),
    401: UNAUTHORIZED,
    404: NOT_FOUND_JOB,
    409: documented(ErrorBody, "The job has no webhook, or no event yet"),
    429: documented(ErrorBody, "`rate_limit_exceeded`: the job's redeliveries this hour are spent; see Retry-After"),
    503: documented(ErrorBody, "Queue unavailable"),
})
def redeliver(job_id: str) -> Response[RedeliveryView]:
    caller, deps = current_caller(), routes.deps()
    account_id = caller.account_id
    require_standing(deps.accounts, account_id, caller.key_id)
    message = redeliver_latest(find_job(deps.jobs, account_id, job_id), deps.queue, deps.redeliveries)
    # A job's redelivery is always one of its own events (account events have no job to redeliver from).
    return json_response(RedeliveryView(job_id=job_id, event_id=message.event_id,
                                        type=cast(WebhookEventType, message.type)), 202)
