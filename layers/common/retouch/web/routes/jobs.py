"""GET /v1/jobs/{job_id}: the caller's job, read from DynamoDB, URLs presigned at read time."""


from functools import cache

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from retouch.config import status_settings
from retouch.data.jobs import JobRepository
from retouch.data.objects import ObjectStore
from retouch.jobs.view import find_job, render_job
from retouch.models.responses import JobView
from retouch.web.principal import current_account
from retouch.web.responses import NOT_FOUND_JOB, UNAUTHORIZED, documented, json_response

router = Router()


@cache
def _repositories() -> tuple[JobRepository, ObjectStore]:
    settings = status_settings()
    return JobRepository(settings.table_name), ObjectStore(settings.bucket_name)


@router.get("/v1/jobs/<job_id>", summary="Get a job", responses={
    200: documented(JobView, "The job; when succeeded, also an OpenAI ImagesResponse"),
    401: UNAUTHORIZED,
    404: NOT_FOUND_JOB,
})
def get_job(job_id: str) -> Response[JobView]:
    account_id = current_account(router.current_event)
    jobs, store = _repositories()
    return json_response(render_job(find_job(jobs, account_id, job_id), store, status_settings().url_expiry_seconds))
