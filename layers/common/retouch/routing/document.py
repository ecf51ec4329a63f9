"""The routing document: per model, the ordered upstreams that serve it, with their credentials' secret names and
base URLs, and the circuit breaker's policy. Validated with pydantic and loaded once per cold start.

The document is JSON in this package (`default.json`), or any file the `RoutingDocument` template parameter names
(a relative name is looked up here). An entry without `secret_name` uses the stack's provider key
(ProviderApiKeySecret); one without `base_url` calls the URL the `UpstreamBaseUrls` template parameter gives its kind
(locally: the kind's stand-in), else the upstream's documented URL (`openai`: ProviderBaseUrl). A kind the upstream
registry marks as having no documented URL (Azure OpenAI: each resource has its own) needs one of the two (checked
with the worker's settings), and an entry sets the routing fields its kind's registry entry names (`deployment`).
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from retouch.catalog import MODELS
from retouch.upstream_registry import UPSTREAMS

HERE = Path(__file__).parent



def _registered(kind: str) -> str:
    if kind not in UPSTREAMS:
        raise ValueError(f"unknown upstream kind {kind!r}; registered: {', '.join(UPSTREAMS)}")
    return kind


# An upstream kind is whatever the upstream registry names (one entry per kind); a document naming another fails.
UpstreamKind = Annotated[str, AfterValidator(_registered)]
RouteName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BreakerPolicy(_Strict):
    """An upstream opens when at least `failure_rate_percent` of its calls in the current `window_seconds` failed
    (and there were `min_calls`); it is skipped for `cool_down_seconds`, then one call probes it (half-open): a
    success closes it, a failure opens it again. A probe unanswered after `probe_timeout_seconds` (its worker died)
    lets another worker probe."""

    window_seconds: int = Field(default=60, ge=1, le=3600)
    min_calls: int = Field(default=5, ge=1, le=1000)
    failure_rate_percent: int = Field(default=50, ge=1, le=100)
    cool_down_seconds: int = Field(default=60, ge=1, le=3600)
    probe_timeout_seconds: int = Field(default=900, ge=1, le=3600)


class UpstreamRoute(_Strict):
    name: RouteName  # unique in the document: the breaker's key and what jobs record
    kind: UpstreamKind  # which adapter speaks to it
    secret_name: str | None = Field(default=None, min_length=1)
    base_url: str | None = Field(default=None, pattern=r"^https?://")
    model: str | None = Field(default=None, min_length=1)  # its name there; None: the catalog's name for the kind
    deployment: str | None = None  # for kinds whose URL names a deployment (azure_openai)
    api_version: str | None = None  # azure_openai
    # What one image costs us there, for upstreams that do not report cost (an estimate, for margin reports).
    cost_per_image_usd: Decimal | None = Field(default=None, ge=0)
    # This upstream's own breaker policy (a flaky reseller may deserve a quicker trip); None: the document's.
    breaker: BreakerPolicy | None = None

    @model_validator(mode="after")
    def _has_the_fields_its_kind_needs(self) -> UpstreamRoute:
        for name in UPSTREAMS[self.kind].route_fields:
            if not getattr(self, name):
                raise ValueError(f"upstream {self.name}: {self.kind} needs `{name}`")
        return self


class RoutingDocument(_Strict):
    breaker: BreakerPolicy = Field(default_factory=BreakerPolicy)
    models: dict[str, Annotated[list[UpstreamRoute], Field(min_length=1)]]

    @model_validator(mode="after")
    def _consistent(self) -> RoutingDocument:
        unknown = sorted(set(self.models) - set(MODELS))
        if unknown:
            raise ValueError(f"models not in the catalog: {unknown}")
        missing = sorted(set(MODELS) - set(self.models))
        if missing:
            raise ValueError(f"no upstreams for: {missing}")
        seen: dict[str, UpstreamRoute] = {}
        for model_id, routes in self.models.items():
            served_by = {kind for kind, _name in MODELS[model_id].upstreams}
            for route in routes:
                if route.kind not in served_by:
                    raise ValueError(f"{model_id}: the catalog lists no {route.kind} upstream for it")
                if seen.setdefault(route.name, route) != route:
                    raise ValueError(f"upstream {route.name} is configured two different ways")
            names = [route.name for route in routes]
            if len(names) != len(set(names)):
                raise ValueError(f"{model_id}: an upstream is listed twice")
        return self

    def routes_for(self, model_id: str) -> list[UpstreamRoute]:
        return self.models[model_id]

    def upstream_model(self, model_id: str, route: UpstreamRoute) -> str:
        """The model's name at that upstream."""
        return route.model or dict(MODELS[model_id].upstreams)[route.kind]

    def breaker_overrides(self) -> dict[str, BreakerPolicy]:
        """Upstream name -> its own breaker policy, for the entries that set one."""
        return {route.name: route.breaker for routes in self.models.values() for route in routes if route.breaker}

    def secret_names(self) -> set[str]:
        return {route.secret_name for routes in self.models.values() for route in routes if route.secret_name}


def document_path(name: str) -> Path:
    path = Path(name)
    return path if path.is_absolute() else HERE / path


@cache
def load_routing(name: str) -> RoutingDocument:
    """The document at `name` (relative to this package unless absolute); raises at cold start when invalid."""
    return RoutingDocument.model_validate_json(document_path(name).read_bytes())
