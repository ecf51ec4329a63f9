"""GET /v1/models and GET /v1/models/{model_id}: the supported models with their limits, prices, upstreams and
the JSON Schema of their parameters."""


from dataclasses import asdict, dataclass

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from retouch.billing.prices import PriceTable
from retouch.catalog import MODELS, ModelSpec, find_model
from retouch.catalog_schema import parameters_schema
from retouch.errors import UnknownModel
from retouch.models.responses import ErrorBody, ModelList, ModelView
from retouch.web.responses import UNAUTHORIZED, documented, json_response
from retouch.web.route_groups import RouteGroup


@dataclass(frozen=True)
class CatalogRoutes:
    prices: PriceTable  # the price file's, with the deployment's markup


routes = RouteGroup(Router(), CatalogRoutes)
router = routes.router


def model_view(spec: ModelSpec, prices: PriceTable) -> ModelView:
    return ModelView(id=spec.id, created=spec.created, owned_by=spec.owned_by, limits=asdict(spec.limits),
                     qualities=list(spec.qualities), output_formats=list(spec.output_formats),
                     backgrounds=list(spec.backgrounds), unsupported_parameters=list(spec.unsupported_parameters),
                     pricing=prices.listing(spec.id),
                     aliases=list(spec.aliases), upstreams=dict(spec.upstreams), parameters=parameters_schema(spec))


def model_list(prices: PriceTable) -> ModelList:
    return ModelList(data=[model_view(spec, prices) for spec in MODELS.values()])


@router.get("/v1/models", summary="List models", responses={
    200: documented(ModelList, "Supported models, with their limits (`max_image_pixels` per input image) and prices"),
    401: UNAUTHORIZED,
})
def list_models() -> Response[ModelList]:
    return json_response(model_list(routes.deps().prices))


@router.get("/v1/models/<model_id>", summary="Retrieve a model", responses={
    200: documented(ModelView, "One model (by its id or a dated alias): limits, prices, upstreams, parameter schema"),
    401: UNAUTHORIZED,
    404: documented(ErrorBody, "No such model (`model_not_found`)"),
})
def retrieve_model(model_id: str) -> Response[ModelView]:
    spec = find_model(model_id)
    if spec is None:
        raise UnknownModel(f"The model '{model_id}' does not exist.", param="model")
    return json_response(model_view(spec, routes.deps().prices))
