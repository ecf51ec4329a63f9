"""GET /health, /openapi.json, /docs and its assets: no key needed.

Swagger UI is served from the copy Powertools ships (no CDN: it works offline and runs no third-party script on
the API's origin), under a content-security policy that allows only this origin's script and styles.
"""


import base64
import hashlib
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from retouch.models.responses import Health
from retouch.web.openapi import openapi_document
from retouch.web.responses import documented, json_response
from retouch.web.route_groups import RouteGroup

routes: RouteGroup[None] = RouteGroup(Router())  # public and stateless: needs nothing
router = routes.router

# Routes without a key: `security: []` overrides the document's bearer requirement.
_PUBLIC: dict[str, Any] = {"openapi_extensions": {"security": []}}
# Found without importing the package: its __init__ loads Powertools' OpenAPI models (~95 ms of every cold start).
_SWAGGER_UI = "aws_lambda_powertools.event_handler.openapi.swagger_ui"
SWAGGER_JS, SWAGGER_CSS = "swagger-ui-bundle.min.js", "swagger-ui.min.css"
_START = 'SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui", deepLinking: true});'
# The one inline script is allowed by its hash; everything else must come from this origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; "
    f"script-src 'self' 'sha256-{base64.b64encode(hashlib.sha256(_START.encode()).digest()).decode()}'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_PAGE = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Retouch API</title>
<link rel="stylesheet" href="/docs/{SWAGGER_CSS}"></head>
<body><div id="ui"></div>
<script src="/docs/{SWAGGER_JS}"></script>
<script>{_START}</script>
</body></html>"""
_SECURITY_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Content-Type-Options": "nosniff",
                     "Referrer-Policy": "no-referrer"}


def _text(description: str, media_type: str) -> OpenAPIResponse:
    return {"description": description, "content": {media_type: {"schema": {"type": "string"}}}}


@cache
def _asset(name: str) -> str:
    spec = find_spec(_SWAGGER_UI)
    if spec is None or spec.origin is None:  # shipped inside Powertools: missing means a broken layer
        raise RuntimeError(f"{_SWAGGER_UI} is not installed")
    return (Path(spec.origin).parent / name).read_text(encoding="utf-8")


@router.get("/health", summary="Liveness", responses={200: documented(Health, "OK")}, **_PUBLIC)
def health() -> Response[Health]:
    return json_response(Health())


@router.get("/openapi.json", summary="This OpenAPI document", responses={
    200: {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}},
}, **_PUBLIC)
def openapi() -> Response[str]:
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=openapi_document())


@router.get("/docs", summary="Swagger UI", responses={200: _text("Swagger UI", "text/html")}, **_PUBLIC)
def docs() -> Response[str]:
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=_PAGE, headers=_SECURITY_HEADERS)


@router.get(f"/docs/{SWAGGER_JS}", summary="Swagger UI script (bundled with Powertools)",
            responses={200: _text("JavaScript", "text/javascript")}, **_PUBLIC)
def swagger_script() -> Response[str]:
    return Response(status_code=200, content_type="text/javascript; charset=utf-8", body=_asset(SWAGGER_JS),
                    headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"})


@router.get(f"/docs/{SWAGGER_CSS}", summary="Swagger UI styles (bundled with Powertools)",
            responses={200: _text("CSS", "text/css")}, **_PUBLIC)
def swagger_styles() -> Response[str]:
    return Response(status_code=200, content_type="text/css; charset=utf-8", body=_asset(SWAGGER_CSS),
                    headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"})
