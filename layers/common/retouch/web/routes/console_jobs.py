"""GET /jobs/{job_id}/images: a job's inputs and outputs as presigned links (15 minutes at most), for the console's job
log thumbnails and job page (`GET /v1/jobs/{id}` links only the outputs). Console only (403 for keys); another
account's job is a 404."""

from dataclasses import dataclass

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from retouch.jobs.images import job_images
from retouch.jobs.view import find_job
from retouch.models.console_routes import JobImages
from retouch.ports import JobRepository, ObjectStore
from retouch.web.principal import current_console_user
from retouch.web.responses import NOT_FOUND_JOB, UNAUTHORIZED, documented, json_response
from retouch.web.route_groups import RouteGroup
from retouch.web.routes.console_keys import CONSOLE_ONLY


@dataclass(frozen=True)
class ConsoleJobRoutes:
    jobs: JobRepository
    store: ObjectStore  # presigns the links
    url_expiry_seconds: int  # the deployment's; the links live the lesser of it and 15 minutes


routes = RouteGroup(Router(), ConsoleJobRoutes)
router = routes.router


@router.get("/jobs/<job_id>/images", summary="A job's input and output images (presigned links)", responses={
    200: documented(JobImages, "The inputs in order (then the mask) and, once succeeded, the outputs"),
    401: UNAUTHORIZED, 403: CONSOLE_ONLY, 404: NOT_FOUND_JOB,
})
def get_job_images(job_id: str) -> Response[JobImages]:
    caller = current_console_user()
    deps = routes.deps()
    return json_response(job_images(find_job(deps.jobs, caller.account_id, job_id), deps.store,
                                    deps.url_expiry_seconds))
