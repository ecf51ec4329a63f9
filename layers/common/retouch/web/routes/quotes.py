"""POST /v1/images/quote: what an edit or generation would hold and is expected to cost, without creating a job."""


from dataclasses import dataclass

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from retouch.jobs.quote import QuoteDeps, quote_request
from retouch.models.quotes import QuoteView
from retouch.models.responses import ErrorBody
from retouch.web.principal import current_caller
from retouch.web.request_parsing import parse_quote
from retouch.web.responses import UNAUTHORIZED, documented, json_response
from retouch.web.route_groups import RouteGroup


@dataclass(frozen=True)
class QuoteRoutes:
    quote: QuoteDeps  # the submit's checks and prices (the api wires the same collaborators as its submit's)
    max_body_bytes: int


routes = RouteGroup(Router(), QuoteRoutes)
router = routes.router


@router.post("/v1/images/quote", summary="Quote an edit or generation", responses={
    200: documented(QuoteView, "The hold and the expected charge under the current pricing rule; no job is created"),
    400: documented(ErrorBody, "Invalid request: the 400 the edit or generation of the same body would answer "
                               "(fields, image URLs and data: images, uploaded files, the mask's size, upstream "
                               "support, the webhook)"),
    401: UNAUTHORIZED,
    413: documented(ErrorBody, "Body too large"),
    415: documented(ErrorBody, "Wrong content type"),
    429: documented(ErrorBody, "`rate_limit_exceeded`; see Retry-After"),
}, description="JSON with the body of an edit or a generation; `images` (and `mask`) as `{file_id}`, `{image_url}` "
               "or `{width, height}`: no bytes are needed. Nothing is held or stored.")
def create_quote() -> Response[QuoteView]:
    deps = routes.deps()
    request = parse_quote(routes.event().raw_event, deps.max_body_bytes)
    return json_response(quote_request(current_caller().account_id, request, deps.quote))
