"""GET /health, /openapi.json and /docs: no key needed."""


from functools import cache

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from retouch.models.responses import Health
from retouch.web.responses import documented, json_response

router = Router()

_SWAGGER_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Retouch API</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "openapi.json", dom_id: "#ui"});</script>
</body></html>"""


@cache
def openapi_document() -> str:
    """The whole API's OpenAPI document, generated from the routers' pydantic models."""
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    from retouch.web.app import create_app
    from retouch.web.routes import account, catalog, files, images, jobs, webhooks

    app = create_app(images.router, files.router, jobs.router, account.router, catalog.router, webhooks.router,
                     router)
    return app.get_openapi_json_schema(
        title="Retouch API",
        version="1.0.0",
        description="Pay-per-use image editing, OpenAI images API compatible. Jobs are asynchronous: "
                    "202 + Location, or send `Prefer: wait=N` to hold until the job ends.",
        security_schemes={"apiKey": HTTPBearer()},
        security=[{"apiKey": []}],
    )


@router.get("/health", summary="Liveness", security=[{}], responses={200: documented(Health, "OK")})
def health() -> Response[Health]:
    return json_response(Health())


@router.get("/openapi.json", summary="OpenAPI document", security=[{}])
def openapi() -> Response[str]:
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=openapi_document())


@router.get("/docs", summary="Swagger UI", security=[{}])
def docs() -> Response[str]:
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=_SWAGGER_PAGE)
