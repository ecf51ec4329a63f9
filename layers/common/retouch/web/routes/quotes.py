"""POST /v1/images/quote: what an edit or generation would hold and is expected to cost, without creating a job."""


from dataclasses import dataclass

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from retouch.billing.prices import PriceTable
from retouch.billing.quotes import quote
from retouch.models.quotes import QuoteView
from retouch.models.responses import ErrorBody
from retouch.ports import FileRepository
from retouch.web.principal import current_caller
from retouch.web.request_parsing import parse_quote
from retouch.web.responses import UNAUTHORIZED, documented, json_response
from retouch.web.route_groups import RouteGroup


@dataclass(frozen=True)
class QuoteRoutes:
    prices: PriceTable  # the price file's, with the deployment's markup (the same the submit holds with)
    files: FileRepository  # uploaded files named by `file_id`: priced by their size as read
    max_body_bytes: int


routes = RouteGroup(Router(), QuoteRoutes)
router = routes.router


@router.post("/v1/images/quote", summary="Quote an edit or generation", responses={
    200: documented(QuoteView, "The hold and the expected charge under the current pricing rule; no job is created"),
    400: documented(ErrorBody, "Invalid request (as an edit or generation would be), or an unknown `file_id`"),
    401: UNAUTHORIZED,
    413: documented(ErrorBody, "Body too large"),
    415: documented(ErrorBody, "Wrong content type"),
    429: documented(ErrorBody, "`rate_limit_exceeded`; see Retry-After"),
}, description="JSON with the body of an edit or a generation; `images` (and `mask`) as `{file_id}`, `{image_url}` "
               "or `{width, height}`: no bytes are needed. Nothing is held or stored.")
def create_quote() -> Response[QuoteView]:
    deps = routes.deps()
    request = parse_quote(routes.event().raw_event, deps.max_body_bytes)
    return json_response(quote(deps.prices, deps.files, current_caller().account_id, request))
