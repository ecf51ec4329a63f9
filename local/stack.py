"""The whole local stack from template.yaml: emulated AWS, one process per function, the HTTP API, SQS pollers.

    with LoopbackStack(port=0, provider_delay=0.2, quiet=True) as stack:
        httpx.get(f"{stack.base_url}/health")
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
from botocore.config import Config

from local.authorizer import LambdaAuthorizer
from local.aws_resources import LocalResources, ResourceCreator
from local.console import Console
from local.log_lines import LogFormat, formatter
from local.function_pool import FunctionPool, Functions
from local.functions import (
    LOCAL_CREDENTIAL,
    REPO_ROOT,
    FunctionError,
    FunctionHost,
    aws_environment,
    base_environment,
    lambda_environment,
)
from local.gateway import FUNCTION_URL_LIMITS, Gateway, GatewayServer
from local.intrinsics import REGION, Resolver, parameter_values
from local.moto_server import MotoServer
from local.pollers import SqsPoller
from local.routes import FunctionUrlRoutes, RouteTable
from local.schedules import Schedule, rate_seconds
from local.seed import seed_account
from local.settings import LocalSettings
from local.template import Template, TemplateError

DEFAULT_TEMPLATE = REPO_ROOT / "template.yaml"
# What the provider secrets hold while the stand-ins run; every stand-in accepts it (and only it, but OpenAI's).
STAND_IN_PROVIDER_KEY = "local-stand-in-key"
# The template parameter filled with the upstream stand-ins' URLs as JSON (when the template declares it).
UPSTREAM_URLS_PARAMETER = "UpstreamBaseUrls"
# The stand-in's timeout fault hangs this much longer than the worker waits, so the worker's timeout fires.
TIMEOUT_FAULT_MARGIN_SECONDS = 5


class LoopbackStack:
    """The whole Retouch stack on 127.0.0.1 (moto, the functions of template.yaml, gateway, pollers, stand-in
    provider). Named for where it runs, not after the LocalStack product, which it neither uses nor emulates."""

    def __init__(
        self,
        *,
        port: int = 0,
        api_key: str | None = None,
        provider_delay: float = 1.0,
        openai_api_key: str | None = None,
        max_wait_seconds: float = 25,
        url_allowlist: str = "",
        parameter_overrides: Mapping[str, Any] | None = None,
        quiet: bool = False,
        log_path: Path | str | None = None,
        poller_concurrency: int = 4,
        max_environments: int = 8,
        startup_timeout: float = 30.0,
        template_path: Path | str = DEFAULT_TEMPLATE,
        use_fake_provider: bool | None = None,
        seed: bool = True,
        strict_init: bool = True,
        schedule_seconds: float | None = None,
        provider_timeout_seconds: float = 10,
        function_url_port: int = 0,
        log_format: LogFormat = "json",
        stand_in_routing: Path | str | None = None,
    ) -> None:
        """Nothing starts until `start()` (or `with`). Nothing here reads the environment: see `from_settings`.

        openai_api_key: set, the worker calls the real provider and the secret holds the key; unset,
        the stand-in provider runs (override with `use_fake_provider`).
        parameter_overrides: template parameters, applied last (they win over the derived ones).
        seed: create the local account and key (needs `retouch.admin.bootstrap`); off for test templates.
        strict_init: a handler that fails to import fails the start (else its invocations fail, as in Lambda).
        max_environments: per function, how many invocations run at once (each in its own process).
        schedule_seconds: set, every Schedule event fires at this interval instead of its own rate.
        function_url_port: where the first Function URL listens (the next ones on the following ports); 0: any free
        port. Each function with `FunctionUrlConfig` gets its own server, as each has its own URL in AWS.
        log_format: the functions' JSON lines on the console: "short" (one short line each) or "json" (as printed).
        provider_timeout_seconds: the worker's provider timeout (ProviderTimeoutSeconds); the stand-in's timeout
        fault hangs past it, so timeouts are retried for real.
        stand_in_routing: the routing document (RoutingDocument, an absolute path) while the stand-ins run; with the
        real provider the template's default stays (its other upstreams have no key here).
        """
        self._port = port
        self._requested_api_key = api_key
        self._provider_delay = provider_delay
        self._openai_api_key = openai_api_key
        self._max_wait_seconds = max_wait_seconds
        self._url_allowlist = url_allowlist
        self._parameter_overrides = dict(parameter_overrides or {})
        self._poller_concurrency = poller_concurrency
        self._max_environments = max_environments
        self._startup_timeout = startup_timeout
        self._template_path = Path(template_path)
        self._use_fake_provider = openai_api_key is None if use_fake_provider is None else use_fake_provider
        self._seed = seed
        self._strict_init = strict_init
        self._schedule_seconds = schedule_seconds
        self._function_url_port = function_url_port
        self._stand_in_routing = stand_in_routing
        self._provider_timeout = float(self._parameter_overrides.get("ProviderTimeoutSeconds",
                                                                     provider_timeout_seconds))
        self.console = Console(quiet=quiet, log_path=log_path, render=formatter(log_format))

        self.template: Template
        self.parameters: dict[str, str] = {}
        self.resources = LocalResources()
        self.provider: Any = None  # a local.fake_provider.StandIn while the stand-in runs
        self.upstreams: Any = None  # a local.upstreams.UpstreamStandIns: the other upstreams' stand-ins
        self.aws_endpoint_url = ""
        self.base_url = ""
        self.function_urls: dict[str, str] = {}  # function id -> its Function URL (base URL, no path)
        self.api_key: str | None = None
        self.account_id: str | None = None
        self.startup_seconds = 0.0
        self._functions: Functions | None = None
        self._pollers: list[SqsPoller] = []
        self._schedules: list[Schedule] = []
        self._moto: MotoServer | None = None
        self._exit = contextlib.ExitStack()

    @classmethod
    def from_settings(cls, settings: LocalSettings, **kwargs: Any) -> LoopbackStack:
        return cls(
            port=settings.port,
            api_key=settings.api_key,
            provider_delay=settings.provider_delay,
            openai_api_key=settings.openai_api_key.get_secret_value() if settings.openai_api_key else None,
            max_wait_seconds=settings.max_wait_seconds,
            url_allowlist=settings.url_allowlist,
            poller_concurrency=settings.poller_concurrency,
            max_environments=settings.max_environments,
            schedule_seconds=settings.schedule_seconds,
            provider_timeout_seconds=settings.provider_timeout_seconds,
            function_url_port=settings.sync_port,
            log_format=settings.log_format,
            stand_in_routing=settings.routing_document,
            **kwargs,
        )

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> LoopbackStack:
        started = time.monotonic()
        try:
            self._start(deadline=started + self._startup_timeout)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        self.console.line("local", f"stack ready at {self.base_url} in {self.startup_seconds:.1f} s")
        return self

    def _start(self, deadline: float) -> None:
        def remaining() -> float:
            return max(0.1, deadline - time.monotonic())

        exit_stack = self._exit
        exit_stack.callback(self.console.close)
        self.template = Template.load(self._template_path)
        # Bind first: a busy PORT should fail in milliseconds, not after every process started.
        server = GatewayServer(self._port)
        exit_stack.callback(server.stop)
        url_servers = {function_id: GatewayServer(self._function_url_port + index if self._function_url_port else 0)
                       for index, function_id in enumerate(self.template.function_urls)}
        for url_server in url_servers.values():
            exit_stack.callback(url_server.stop)
        moto = self._moto = MotoServer(self.console)
        exit_stack.callback(moto.stop)
        moto.start()
        if self._use_fake_provider:
            self._start_provider()
        self.aws_endpoint_url = moto.wait_ready(remaining())

        self.parameters = parameter_values(self.template, self._derived_parameters() | self._parameter_overrides)
        creator = ResourceCreator(self.template, self.parameters, self.aws_client,
                                  secret_value=self._openai_api_key or STAND_IN_PROVIDER_KEY)
        self.resources = creator.create_all()
        resolver = Resolver(self.template, self.parameters, self.resources.physical)

        exit_stack.callback(self._join_pollers)
        self._functions = Functions({fid: self._pool(fid, resolver) for fid in self.template.functions})
        exit_stack.callback(self._functions.stop)
        exit_stack.callback(self._signal_pollers)
        self._functions.start()
        if self._seed:  # overlaps the functions' cold starts
            self.account_id, self.api_key = seed_account(
                self._seed_table(), self._requested_api_key,
                env={**base_environment(), **aws_environment(self.aws_endpoint_url), "PYTHONPATH": str(REPO_ROOT)},
                layer_dirs=self._layer_dirs(), console=self.console, timeout=remaining(),
            )
        self._functions.wait_ready(remaining(), strict_init=self._strict_init)

        self._start_pollers()
        self._start_schedules(resolver)
        server.serve(self._gateway())
        exit_stack.callback(server.stop)  # stop accepting requests before anything else stops
        self.base_url = server.base_url
        for function_id, url_server in url_servers.items():
            url_server.serve(Gateway(FunctionUrlRoutes(function_id), {}, self._functions.invoke,
                                     log=lambda line, fid=function_id: self.console.line(f"url:{fid}", line),
                                     limits=FUNCTION_URL_LIMITS))
            exit_stack.callback(url_server.stop)
            self.function_urls[function_id] = url_server.base_url

    def stop(self) -> None:
        """Stops everything started, in order: the API, the pollers, the functions, the emulation, the provider."""
        self._exit.close()

    def __enter__(self) -> LoopbackStack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- what tests use ---------------------------------------------------------------------

    def invoke(self, function_id: str, event: Any) -> Any:
        """Invoke a function directly (as `aws lambda invoke` would); raises FunctionError if the handler raised."""
        assert self._functions is not None, "start() first"
        invocation = self._functions.invoke(function_id, event)
        if invocation.failed:
            raise FunctionError(function_id, invocation.payload)
        return invocation.payload

    @property
    def upstream_urls(self) -> dict[str, str]:
        """Upstream name -> base URL of its stand-in (empty when the stand-ins do not run); see local.upstreams."""
        return self.upstreams.urls if self.upstreams is not None else {}

    @property
    def moto_pid(self) -> int | None:
        """The AWS emulation's process (its memory is what grows with a long run)."""
        return self._moto.pid if self._moto is not None else None

    def function_pool(self, function_id: str) -> FunctionPool:
        assert self._functions is not None, "start() first"
        return self._functions.pool(function_id)

    def aws_client(self, service: str) -> Any:
        """A boto3 client for the emulation; its own session, so it is safe to build from any thread."""
        return boto3.session.Session().client(
            service,
            endpoint_url=self.aws_endpoint_url,
            region_name=REGION,
            aws_access_key_id=LOCAL_CREDENTIAL,
            aws_secret_access_key=LOCAL_CREDENTIAL,
            config=Config(retries={"mode": "standard", "max_attempts": 3}),
        )

    # --- parts ------------------------------------------------------------------------------

    def _start_provider(self) -> None:
        from local.fake_provider import FakeProvider
        from local.upstreams import UpstreamStandIns

        self.provider = FakeProvider(host="127.0.0.1", port=0, delay=self._provider_delay,
                                     hang_seconds=self._provider_timeout + TIMEOUT_FAULT_MARGIN_SECONDS)
        self.provider.start()
        self._exit.callback(self.provider.stop)
        # Threads of this process, like the OpenAI stand-in: about 0.1 s to start.
        self.upstreams = UpstreamStandIns(delay=self._provider_delay, hang_seconds=self.provider.hang_seconds,
                                          api_key=STAND_IN_PROVIDER_KEY)
        self.upstreams.start()
        self._exit.callback(self.upstreams.stop)

    def _derived_parameters(self) -> dict[str, Any]:
        """Local choices for the template's parameters, where the template has them (test templates may not)."""
        derived: dict[str, Any] = {"MaxWaitSeconds": self._max_wait_seconds, "UrlAllowlist": self._url_allowlist,
                                   "ProviderTimeoutSeconds": self._provider_timeout}
        if self.provider is not None:
            derived["ProviderBaseUrl"] = self.provider.base_url
        if self.upstreams is not None:
            derived[UPSTREAM_URLS_PARAMETER] = self.upstreams.to_json()
            if self._stand_in_routing is not None:
                derived["RoutingDocument"] = str(Path(self._stand_in_routing).resolve())
        return {name: value for name, value in derived.items() if name in self.template.parameters}

    def _pool(self, function_id: str, resolver: Resolver) -> FunctionPool:
        spec = self.template.functions[function_id]
        env = self._function_env(function_id, resolver)
        # Reserved concurrency caps a function's environments in AWS; locally too (invocations past it wait).
        reserved = resolver.resolve(
            (self.template.resources[function_id].get("Properties") or {}).get("ReservedConcurrentExecutions"))
        cap = int(reserved) if isinstance(reserved, (int, str)) else self._max_environments  # None or NoValue: none
        return FunctionPool(spec.short_name, lambda prefix: FunctionHost(spec, env, self.console, prefix),
                            max_environments=max(1, min(self._max_environments, cap)))

    def _function_env(self, function_id: str, resolver: Resolver) -> dict[str, str]:
        spec = self.template.functions[function_id]
        runtime = ((self.template.body.get("Globals") or {}).get("Function") or {}).get("Runtime", "python3.13")
        runtime = (self.template.resources[function_id].get("Properties") or {}).get("Runtime", runtime)
        return lambda_environment(
            spec, resolver.function_environment(spec),
            function_name=self.resources.ref(function_id), aws_endpoint_url=self.aws_endpoint_url, runtime=runtime,
        )

    def _layer_dirs(self) -> list[Path]:
        seen: dict[Path, None] = {}
        for spec in self.template.functions.values():
            seen.update(dict.fromkeys(spec.layer_dirs))
        return list(seen)

    def _seed_table(self) -> str:
        if len(self.resources.tables) != 1:
            raise TemplateError(f"seeding needs exactly one table, the template has {sorted(self.resources.tables)}")
        return next(iter(self.resources.tables.values()))

    def _gateway(self) -> Gateway:
        assert self._functions is not None
        authorizers = {name: LambdaAuthorizer(spec, self._functions.invoke)
                       for name, spec in self.template.authorizers.items()}
        return Gateway(RouteTable(self.template.http_routes), authorizers, self._functions.invoke,
                       log=lambda line: self.console.line("gateway", line))

    def _start_pollers(self) -> None:
        assert self._functions is not None
        for mapping in self.template.sqs_mappings:
            if not mapping.enabled:
                continue
            poller = SqsPoller(
                mapping,
                queue_url=self.resources.queues[mapping.queue_id],
                queue_arn=self.resources.queue_arns[mapping.queue_id],
                sqs=self.aws_client("sqs"),
                invoke=self._functions.invoke,
                log=lambda line: self.console.line("sqs", line),
                concurrency=self._poller_concurrency,
            )
            poller.start()
            self._pollers.append(poller)

    def _start_schedules(self, resolver: Resolver) -> None:
        assert self._functions is not None
        for spec in self.template.schedules:
            if not spec.enabled:
                continue
            every = self._schedule_seconds or rate_seconds(str(resolver.resolve(spec.schedule)))
            schedule = Schedule(spec.function_id, f"{spec.function_id}-{spec.event_id}", every,
                                self._functions.invoke, log=lambda line: self.console.line("schedule", line))
            schedule.start()
            self._schedules.append(schedule)

    def _signal_pollers(self) -> None:
        for waiter in [*self._pollers, *self._schedules]:
            waiter.signal_stop()

    def _join_pollers(self) -> None:
        self._signal_pollers()
        for waiter in [*self._pollers, *self._schedules]:
            waiter.join()
        self._pollers.clear()
        self._schedules.clear()
