"""DELETE /v1/jobs/{job_id}: changes the caller makes to a job (on the api function, which may write)."""

from functools import cache

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from retouch.config import api_settings
from retouch.data.jobs import JobRepository
from retouch.data.objects import ObjectStore
from retouch.jobs.retention import RetentionDeps, delete_job
from retouch.models.common import now_epoch
from retouch.models.responses import ErrorBody
from retouch.web.principal import current_account
from retouch.web.responses import NOT_FOUND_JOB, UNAUTHORIZED, documented

router = Router()


@cache
def _retention() -> RetentionDeps:
    settings = api_settings()
    return RetentionDeps(jobs=JobRepository(settings.table_name), store=ObjectStore(settings.bucket_name))


@router.delete("/v1/jobs/<job_id>", summary="Delete an ended job's images", responses={
    204: {"description": "Deleted: its inputs and outputs are gone now; reads of the job are 404 from now on "
                         "(its billing record stays)"},
    401: UNAUTHORIZED,
    404: NOT_FOUND_JOB,
    409: documented(ErrorBody, "The job has not ended (`job_not_deletable`): cancel it or wait for it to end"),
})
def delete(job_id: str) -> Response[None]:
    delete_job(current_account(router.current_event), job_id, _retention(), now_epoch())
    return Response(status_code=204)
