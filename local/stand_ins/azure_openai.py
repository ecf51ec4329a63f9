"""Azure OpenAI's images API on a deployment: OpenAI's request and answer bodies, Azure's URL and key header.

    POST /openai/deployments/{deployment}/images/edits?api-version=…        (multipart, as OpenAI's)
    POST /openai/deployments/{deployment}/images/generations?api-version=…  (JSON)

The key goes in the `api-key` header; the deployment chooses the model (no `model` field needed). A wrong key is
Azure's 401, an unknown deployment its 404 `DeploymentNotFound`, a refusal its content filter's 400.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from werkzeug.wrappers import Request

from local.stand_ins.openai_images import FAULT_ERRORS, ApiError, OpenAIImagesFake

DEFAULT_DEPLOYMENT = "gpt-image-2"
_PATH = re.compile(r"^/openai/deployments/(?P<deployment>[^/]+)/images/(?P<endpoint>edits|generations)$")


def _content_filter() -> ApiError:
    error = ApiError(400, "Your request was rejected as a result of our safety system. Your prompt may contain text "
                          "that is not allowed by our safety system.", param="prompt",
                     code="content_policy_violation")
    error.body["error"]["inner_error"] = {
        "code": "ResponsibleAIPolicyViolation",
        "content_filter_results": {"violence": {"filtered": True, "severity": "medium"}},
    }
    return error


class AzureOpenAIFake(OpenAIImagesFake):
    """Azure OpenAI on loopback; `base_url` is the resource endpoint (the adapter's `endpoint`)."""

    upstream = "azure_openai"

    api_prefix = ""
    request_id_header = "apim-request-id"
    fault_errors: ClassVar = {**FAULT_ERRORS, "safety": _content_filter}

    def __init__(self, *args: Any, deployment: str = DEFAULT_DEPLOYMENT, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deployment = deployment

    @property
    def route_fields(self) -> dict[str, str]:
        return {"deployment": self.deployment}

    def endpoint_for(self, request: Request, path: str) -> str:
        match = _PATH.match(path)
        if match is None or request.method != "POST" or not request.args.get("api-version"):
            raise ApiError(404, "Resource not found", code="404")
        if match["deployment"] != self.deployment:
            raise ApiError(404, "The API deployment for this resource does not exist. If you created the deployment "
                                "within the last 5 minutes, please wait a moment and try again.",
                           code="DeploymentNotFound")
        return match["endpoint"]

    def authorize(self, request: Request) -> None:
        if not self.key_accepted(request.headers.get("api-key")):
            raise ApiError(401, "Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
                                "provide a valid key for an active subscription and use a correct regional API "
                                "endpoint for your resource.", code="401")
