"""POST /v1/uploads, GET /v1/files, GET and DELETE /v1/files/{file_id}: files clients upload straight to S3."""

from dataclasses import dataclass

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from retouch.billing.end_user_quotas import EndUserQuotas
from retouch.files.uploads import FileDeps, create_upload, delete_file, get_file, list_files
from retouch.models.common import now_epoch
from retouch.models.responses import ErrorBody, FileDeleted, FileList, FileView, GatewayMessage, UploadView
from retouch.ports import RateCounter
from retouch.web.admission import admitted
from retouch.web.end_user import end_user_param, request_end_user
from retouch.web.principal import current_caller
from retouch.web.request_parsing import parse_upload
from retouch.web.responses import UNAUTHORIZED, documented, json_response
from retouch.web.route_groups import RouteGroup


@dataclass(frozen=True)
class FileRoutes:
    files: FileDeps
    rate_counter: RateCounter  # the account's per-minute limit, counted per upload
    max_body_bytes: int
    end_users: EndUserQuotas  # an upload for an end user counts against its requests per minute


routes = RouteGroup(Router(), FileRoutes)
router = routes.router

# API Gateway's own 404 too: a file id with a slash matches no route.
_NOT_FOUND = documented(ErrorBody | GatewayMessage, "No such file for this account (or it expired)")


@router.post("/v1/uploads", summary="Create an upload: a file and the presigned S3 POST that sends its bytes",
             responses={
                 201: documented(UploadView, "The pending file and its presigned POST (send every field, then `file`)"),
                 400: documented(ErrorBody, "Invalid request (size, type, name)"),
                 401: UNAUTHORIZED,
                 415: documented(ErrorBody, "Wrong content type"),
                 403: documented(ErrorBody, "A device token naming another end user (`end_user_mismatch`) or "
                                            "without `uploads:create` (`client_token_forbidden`)"),
                 429: documented(ErrorBody, "`rate_limit_exceeded`, or `end_user_limit_exceeded` (the end user's "
                                            "requests_per_minute); see Retry-After"),
             },
             description="JSON `{filename, bytes, mime_type, purpose?}`. S3 accepts exactly `bytes` bytes with that "
                         "Content-Type, for a few minutes; then use the id as `{\"file_id\": ...}` in a JSON edit.")
def create() -> Response[UploadView]:
    deps = routes.deps()
    caller = current_caller()
    account_id = caller.account_id
    with admitted(deps.rate_counter, account_id, caller.key_id) as admission:
        request = parse_upload(routes.event().raw_event, deps.max_body_bytes)
        end_user = request_end_user(caller, routes.event().headers, request.user)
        if end_user is not None:
            deps.end_users.count_request(account_id, end_user, now_epoch())
        upload = create_upload(account_id, request, deps.files, end_user=end_user)
        return json_response(upload, 201, {"Location": f"/v1/files/{upload.id}", **admission.headers})


@router.get("/v1/files", summary="The account's files, newest first", responses={
    200: documented(FileList, "One page; pass `next_cursor` as `after` for the next"),
    400: documented(ErrorBody, "Invalid limit or cursor"),
    401: UNAUTHORIZED,
})
def list_all() -> Response[FileList]:
    account_id = current_caller().account_id
    params = routes.event().query_string_parameters or {}
    user = end_user_param(params["user"], "user") if "user" in params else None
    return json_response(list_files(account_id, params.get("limit"), params.get("after"), routes.deps().files,
                                    end_user=user))


@router.get("/v1/files/<file_id>", summary="A file: pending until its bytes arrive, then ready or rejected",
            responses={200: documented(FileView, "The file, read by content once uploaded"),
                       401: UNAUTHORIZED, 404: _NOT_FOUND})
def get_one(file_id: str) -> Response[FileView]:
    account_id = current_caller().account_id
    return json_response(get_file(account_id, file_id, routes.deps().files))


@router.delete("/v1/files/<file_id>", summary="Delete a file (its record and its bytes)",
               responses={200: documented(FileDeleted, "Deleted"), 401: UNAUTHORIZED, 404: _NOT_FOUND})
def delete_one(file_id: str) -> Response[FileDeleted]:
    account_id = current_caller().account_id
    return json_response(delete_file(account_id, file_id, routes.deps().files))
