"""template.yaml as data: short-form tags, and the functions, routes, authorizers and SQS mappings it declares.

Only reads and reshapes the template; resolving intrinsics is `local.cloudformation.intrinsics`' job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from samtranslator.yaml_helper import intrinsics_multi_constructor

FUNCTION_TYPE = "AWS::Serverless::Function"
LAYER_TYPE = "AWS::Serverless::LayerVersion"
HTTP_API_TYPE = "AWS::Serverless::HttpApi"
# A Lambda Function URL's events name every request with this route key (and path).
FUNCTION_URL_ROUTE_KEY = "$default"

# SAM's own defaults when neither the function nor Globals set them.
_SAM_DEFAULT_TIMEOUT = 3
_SAM_DEFAULT_MEMORY = 128


class TemplateError(ValueError):
    """The template uses something the local runtime cannot map (say so instead of guessing)."""


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that reads `!Ref X` as {"Ref": "X"}, `!GetAtt A.B` as {"Fn::GetAtt": ["A", "B"]}, and so on.

    The constructor is SAM's own (samtranslator.yaml_helper), registered on this subclass rather than through its
    `yaml_parse`, which would register it on yaml.SafeLoader for the whole process.
    """


_CfnLoader.add_multi_constructor("!", intrinsics_multi_constructor)


def load_yaml(text: str) -> dict[str, Any]:
    body = yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(body, dict):
        raise TemplateError("template is not a mapping")
    return body


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str
    timeout: int
    memory_size: int
    # Unresolved template values; Globals first, the function's own variables win.
    environment: dict[str, Any]
    layer_dirs: tuple[Path, ...]

    @property
    def short_name(self) -> str:
        """`ApiFunction` -> `api`, `DeadLetterFunction` -> `dead-letter`: the console prefix."""
        stem = self.logical_id.removesuffix("Function") or self.logical_id
        return "".join(f"-{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(stem))


@dataclass(frozen=True)
class HttpRouteSpec:
    function_id: str
    event_id: str
    method: str  # upper case; "ANY" matches every method
    path: str  # may hold `{param}` and a trailing `{proxy+}`
    authorizer: str | None  # None: the route is public

    @property
    def route_key(self) -> str:
        return FUNCTION_URL_ROUTE_KEY if self.path == FUNCTION_URL_ROUTE_KEY else f"{self.method} {self.path}"


@dataclass(frozen=True)
class AuthorizerSpec:
    name: str
    function_id: str
    identity_headers: tuple[str, ...]  # lower case
    reauthorize_every: int
    payload_format_version: str
    simple_responses: bool


@dataclass(frozen=True)
class SqsMappingSpec:
    function_id: str
    event_id: str
    queue_id: str
    # Records per invocation and how long to gather them (MaximumBatchingWindowInSeconds): ints, or intrinsics (a
    # parameter's Ref) until `resolved`.
    batch_size: Any
    report_batch_item_failures: bool
    enabled: bool
    batching_window_seconds: Any = 0
    # ScalingConfig.MaximumConcurrency: the most invocations of this event source at once (None: no cap).
    maximum_concurrency: Any = None

    def resolved(self, resolve: Callable[[Any], Any]) -> SqsMappingSpec:
        """This mapping with its batch size, window and cap as numbers (`resolve`: the stack's intrinsic resolver)."""
        cap = self.maximum_concurrency
        return replace(self, batch_size=int(resolve(self.batch_size)),
                       batching_window_seconds=int(resolve(self.batching_window_seconds)),
                       maximum_concurrency=int(resolve(cap)) if cap is not None else None)


@dataclass(frozen=True)
class ScheduleSpec:
    function_id: str
    event_id: str
    schedule: Any  # `rate(...)`, or an intrinsic (e.g. a parameter's Ref) the stack resolves
    enabled: bool


@dataclass(frozen=True)
class Template:
    path: Path
    body: dict[str, Any]

    @classmethod
    def load(cls, path: Path | str) -> Template:
        path = Path(path).resolve()
        return cls(path=path, body=load_yaml(path.read_text()))

    @property
    def root(self) -> Path:
        """CodeUri and ContentUri are relative to the template's directory."""
        return self.path.parent

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        return self.body.get("Parameters") or {}

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.body.get("Resources") or {}

    @property
    def _function_globals(self) -> dict[str, Any]:
        return (self.body.get("Globals") or {}).get("Function") or {}

    def resources_of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {lid: r for lid, r in self.resources.items() if r.get("Type") == resource_type}

    @cached_property
    def functions(self) -> dict[str, FunctionSpec]:
        return {lid: self._function_spec(lid, r.get("Properties") or {})
                for lid, r in self.resources_of_type(FUNCTION_TYPE).items()}

    def _function_spec(self, logical_id: str, props: dict[str, Any]) -> FunctionSpec:
        glob = self._function_globals
        code_uri = props.get("CodeUri", glob.get("CodeUri"))
        handler = props.get("Handler", glob.get("Handler"))
        if not isinstance(code_uri, str) or not isinstance(handler, str):
            raise TemplateError(f"{logical_id}: CodeUri and Handler must be plain strings locally")
        env = dict(((glob.get("Environment") or {}).get("Variables")) or {})
        env.update(((props.get("Environment") or {}).get("Variables")) or {})
        # SAM appends a function's Layers to the global ones.
        layers = list(glob.get("Layers") or []) + list(props.get("Layers") or [])
        return FunctionSpec(
            logical_id=logical_id,
            code_dir=(self.root / code_uri).resolve(),
            handler=handler,
            timeout=int(props.get("Timeout", glob.get("Timeout", _SAM_DEFAULT_TIMEOUT))),
            memory_size=int(props.get("MemorySize", glob.get("MemorySize", _SAM_DEFAULT_MEMORY))),
            environment=env,
            layer_dirs=tuple(self._layer_dir(ref, logical_id) for ref in layers),
        )

    def _layer_dir(self, ref: Any, function_id: str) -> Path:
        layer_id = ref.get("Ref") if isinstance(ref, dict) else None
        layer = self.resources.get(layer_id) if isinstance(layer_id, str) else None
        if layer is None or layer.get("Type") != LAYER_TYPE:
            raise TemplateError(f"{function_id}: only `!Ref <LayerVersion>` layers run locally, got {ref!r}")
        content = (self.root / (layer.get("Properties") or {})["ContentUri"]).resolve()
        # A layer built by SAM (BuildMethod) holds packages at its root; a prebuilt one under python/.
        if not (layer.get("Metadata") or {}).get("BuildMethod") and (content / "python").is_dir():
            return content / "python"
        return content

    def _events(self, event_type: str) -> list[tuple[str, str, dict[str, Any]]]:
        found = []
        for function_id, resource in self.resources_of_type(FUNCTION_TYPE).items():
            for event_id, event in ((resource.get("Properties") or {}).get("Events") or {}).items():
                if event.get("Type") == event_type:
                    found.append((function_id, event_id, event.get("Properties") or {}))
        return found

    @cached_property
    def http_routes(self) -> list[HttpRouteSpec]:
        routes = []
        for function_id, event_id, props in self._events("HttpApi"):
            path, method = props.get("Path"), props.get("Method")
            if not isinstance(path, str) or not isinstance(method, str):
                raise TemplateError(f"{function_id}.{event_id}: HttpApi events need Path and Method locally")
            api_id = (props.get("ApiId") or {}).get("Ref") if isinstance(props.get("ApiId"), dict) else None
            routes.append(HttpRouteSpec(
                function_id=function_id,
                event_id=event_id,
                method="ANY" if method.lower() in ("any", "x-amazon-apigateway-any-method") else method.upper(),
                path=path,
                authorizer=self._route_authorizer(api_id, props.get("Auth") or {}),
            ))
        return routes

    def _route_authorizer(self, api_id: str | None, auth: dict[str, Any]) -> str | None:
        name = auth.get("Authorizer")
        if name is None:
            api = self.resources.get(api_id) if api_id else None
            name = (((api or {}).get("Properties") or {}).get("Auth") or {}).get("DefaultAuthorizer")
        if name is None or name == "NONE":
            return None
        if name not in self.authorizers:
            raise TemplateError(f"authorizer {name!r} is not a Lambda authorizer of an HttpApi")
        return name

    @cached_property
    def default_route_throttle(self) -> tuple[Any, Any] | None:
        """The HTTP API's DefaultRouteSettings (ThrottlingRateLimit, ThrottlingBurstLimit), intrinsics unresolved;
        None when it sets no throttle."""
        for api in self.resources_of_type(HTTP_API_TYPE).values():
            settings = (api.get("Properties") or {}).get("DefaultRouteSettings") or {}
            if "ThrottlingRateLimit" in settings or "ThrottlingBurstLimit" in settings:
                return settings.get("ThrottlingRateLimit"), settings.get("ThrottlingBurstLimit")
        return None

    @cached_property
    def authorizers(self) -> dict[str, AuthorizerSpec]:
        found = {}
        for api in self.resources_of_type(HTTP_API_TYPE).values():
            auth = (api.get("Properties") or {}).get("Auth") or {}
            for name, spec in (auth.get("Authorizers") or {}).items():
                if "FunctionArn" not in spec:
                    continue  # JWT authorizers have no function to run locally
                identity = spec.get("Identity") or {}
                found[name] = AuthorizerSpec(
                    name=name,
                    function_id=_function_of_arn(spec["FunctionArn"], name),
                    identity_headers=tuple(h.lower() for h in identity.get("Headers") or []),
                    reauthorize_every=int(identity.get("ReauthorizeEvery", 300)),
                    payload_format_version=str(spec.get("AuthorizerPayloadFormatVersion", "2.0")),
                    simple_responses=bool(spec.get("EnableSimpleResponses", False)),
                )
        return found

    @cached_property
    def sqs_mappings(self) -> list[SqsMappingSpec]:
        mappings = []
        for function_id, event_id, props in self._events("SQS"):
            queue = props.get("Queue")
            if not (isinstance(queue, dict) and "Fn::GetAtt" in queue and queue["Fn::GetAtt"][1] == "Arn"):
                raise TemplateError(f"{function_id}.{event_id}: Queue must be `!GetAtt <Queue>.Arn` locally")
            mappings.append(SqsMappingSpec(
                function_id=function_id,
                event_id=event_id,
                queue_id=queue["Fn::GetAtt"][0],
                batch_size=props.get("BatchSize", 10),
                report_batch_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                enabled=bool(props.get("Enabled", True)),
                batching_window_seconds=props.get("MaximumBatchingWindowInSeconds", 0),
                maximum_concurrency=(props.get("ScalingConfig") or {}).get("MaximumConcurrency"),
            ))
        return mappings

    @cached_property
    def function_urls(self) -> list[str]:
        """Functions with a Lambda Function URL (`FunctionUrlConfig`), by logical id."""
        return [function_id for function_id, resource in self.resources_of_type(FUNCTION_TYPE).items()
                if (resource.get("Properties") or {}).get("FunctionUrlConfig")]

    @cached_property
    def streaming_function_urls(self) -> frozenset[str]:
        """Functions whose Function URL streams its responses (`InvokeMode: RESPONSE_STREAM`)."""
        return frozenset(function_id for function_id, resource in self.resources_of_type(FUNCTION_TYPE).items()
                         if ((resource.get("Properties") or {}).get("FunctionUrlConfig") or {}).get("InvokeMode")
                         == "RESPONSE_STREAM")

    @cached_property
    def schedules(self) -> list[ScheduleSpec]:
        """EventBridge schedules of functions (SAM `Schedule` events)."""
        return [ScheduleSpec(function_id=function_id, event_id=event_id, schedule=props.get("Schedule"),
                             enabled=bool(props.get("Enabled", True)))
                for function_id, event_id, props in self._events("Schedule")]


def _function_of_arn(value: Any, authorizer: str) -> str:
    """The function an authorizer's FunctionArn names: `!GetAtt F.Arn`, or `!Ref F.Alias` (its AutoPublishAlias; the
    local stack runs one version of each function, so the alias is the function)."""
    if isinstance(value, dict) and "Fn::GetAtt" in value and value["Fn::GetAtt"][1] == "Arn":
        return str(value["Fn::GetAtt"][0])
    if isinstance(value, dict) and isinstance(value.get("Ref"), str) and value["Ref"].endswith(".Alias"):
        return value["Ref"].removesuffix(".Alias")
    raise TemplateError(f"authorizer {authorizer}: FunctionArn must be `!GetAtt <Function>.Arn` or "
                        "`!Ref <Function>.Alias` locally")
