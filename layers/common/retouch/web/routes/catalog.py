"""GET /v1/models: the supported models with their limits."""


from dataclasses import asdict

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from retouch.billing.prices import price_table
from retouch.catalog import MODELS
from retouch.config import api_settings
from retouch.models.responses import ModelList, ModelView
from retouch.web.responses import UNAUTHORIZED, documented, json_response

router = Router()


def model_list() -> ModelList:
    return ModelList(data=[
        ModelView(id=spec.id, created=spec.created, owned_by=spec.owned_by, limits=asdict(spec.limits),
                  qualities=list(spec.qualities), output_formats=list(spec.output_formats),
                  backgrounds=list(spec.backgrounds), unsupported_parameters=list(spec.unsupported_parameters),
                  pricing=price_table(api_settings().price_markup_percent).listing(spec.id))
        for spec in MODELS.values()
    ])


@router.get("/v1/models", summary="List models", responses={
    200: documented(ModelList, "Supported models, with their limits (`max_image_pixels` per input image) and prices"),
    401: UNAUTHORIZED,
})
def list_models() -> Response[ModelList]:
    return json_response(model_list())
