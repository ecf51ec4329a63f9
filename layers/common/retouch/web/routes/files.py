"""POST /v1/uploads, GET /v1/files, GET and DELETE /v1/files/{file_id}: files clients upload straight to S3."""

from dataclasses import dataclass

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from retouch.files.uploads import FileDeps, create_upload, delete_file, get_file, list_files
from retouch.models.responses import ErrorBody, FileDeleted, FileList, FileView, GatewayMessage, UploadView
from retouch.ports import RateCounter
from retouch.web.admission import admitted
from retouch.web.principal import current_caller
from retouch.web.request_parsing import parse_upload
from retouch.web.responses import UNAUTHORIZED, documented, json_response
from retouch.web.route_groups import RouteGroup


@dataclass(frozen=True)
class FileRoutes:
    files: FileDeps
    rate_counter: RateCounter  # the account's per-minute limit, counted per upload
    max_body_bytes: int


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
                 429: documented(ErrorBody, "`rate_limit_exceeded`; see Retry-After"),
             },
             description="JSON `{filename, bytes, mime_type, purpose?}`. S3 accepts exactly `bytes` bytes with that "
                         "Content-Type, for a few minutes; then use the id as `{\"file_id\": ...}` in a JSON edit.")
def create() -> Response[UploadView]:
    deps = routes.deps()
    caller = current_caller()
    account_id = caller.account_id
    with admitted(deps.rate_counter, account_id, caller.key_id) as admission:
        request = parse_upload(routes.event().raw_event, deps.max_body_bytes)
        upload = create_upload(account_id, request, deps.files)
        return json_response(upload, 201, {"Location": f"/v1/files/{upload.id}", **admission.headers})


@router.get("/v1/files", summary="The account's files, newest first", responses={
    200: documented(FileList, "One page; pass `next_cursor` as `after` for the next"),
    400: documented(ErrorBody, "Invalid limit or cursor"),
    401: UNAUTHORIZED,
})
def list_all() -> Response[FileList]:
    account_id = current_caller().account_id
    params = routes.event().query_string_parameters or {}
    return json_response(list_files(account_id, params.get("limit"), params.get("after"), routes.deps().files))


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
