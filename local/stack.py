"""The whole local stack from template.yaml: emulated AWS, one process per function, the HTTP API, SQS pollers.

    with LoopbackStack(port=0, provider_delay=0.2, quiet=True) as stack:
        httpx.get(f"{stack.base_url}/health")
"""

from __future__ import annotations

import contextlib
import functools
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config

from local import REPO_ROOT
from local.api_gateway.authorizer import LambdaAuthorizer
from local.api_gateway.console_site import ConsoleSite
from local.api_gateway.gateway import FUNCTION_URL_LIMITS, Gateway, GatewayServer
from local.api_gateway.routes import FunctionUrlRoutes, RouteTable
from local.api_gateway.throttle import RouteThrottle, TokenBucket
from local.aws import LOCAL_CREDENTIAL
from local.aws.dynamodb_contention import DEFAULT_HOLD_SECONDS
from local.aws.moto_server import MotoServer
from local.cloudformation.intrinsics import REGION, Resolver, parameter_values
from local.cloudformation.resources import USER_POOL_CLIENT_TYPE, LocalResources, ResourceCreator
from local.cloudformation.template import SqsMappingSpec, Template, TemplateError
from local.console import Console
from local.lambdas.environment import aws_environment, base_environment, lambda_environment
from local.lambdas.function_host import FunctionHost
from local.lambdas.function_pool import FunctionPool, Functions
from local.lambdas.invocation import FunctionError
from local.lambdas.schedule import Schedule, rate_seconds
from local.lambdas.sqs_poller import SqsPoller
from local.log_lines import LogFormat, formatter
from local.seed import ConsoleOperator, seed_account
from local.settings import LocalSettings
from local.stand_ins.fal_webhooks import JWKS_PATH

DEFAULT_TEMPLATE = REPO_ROOT / "template.yaml"
CONSOLE_DIST = REPO_ROOT / "console" / "dist"  # `make console` builds it; the gateway serves it at /console/
CONSOLE_PATH = "/console/"
# What the provider secrets hold while the stand-ins run; every stand-in accepts it (and only it, but OpenAI's).
STAND_IN_PROVIDER_KEY = "local-stand-in-key"
# The template parameter filled with the upstream stand-ins' URLs as JSON (when the template declares it).
UPSTREAM_URLS_PARAMETER = "UpstreamBaseUrls"
# Payments: the Stripe secret's logical id, the parameter carrying the Stripe API's URL, the stand-in's key, and
# the route Stripe's events are sent to.
STRIPE_SECRET_ID = "StripeSecret"  # noqa: S105 (a logical id)
STRIPE_API_BASE_PARAMETER = "StripeApiBase"
STAND_IN_STRIPE_KEY = "sk_test_local_stand_in"
STRIPE_WEBHOOK_PATH = "/v1/billing/stripe/webhook"
# The stand-in's timeout fault hangs this much longer than the worker waits, so the worker's timeout fires.
TIMEOUT_FAULT_MARGIN_SECONDS = 5


# An SQS event source without ScalingConfig.MaximumConcurrency: AWS scales its pollers far past what two cores serve.
DEFAULT_POLLERS = 4

# One boto3 session builds every client the stack hands out: a session caches the service models it has read, and a
# new session per client re-reads them (a third of a second of JSON each, 18 clients at every start).
_CLIENTS_SESSION_LOCK = threading.Lock()


@functools.cache
def _clients_session() -> boto3.session.Session:
    return boto3.session.Session()


@dataclass(frozen=True, kw_only=True)
class StackOptions:
    """What a LoopbackStack runs with. Nothing here reads the environment: see `LoopbackStack.from_settings`."""

    port: int = 0
    api_key: str | None = None
    provider_delay: float = 1.0
    # Set: the worker calls the real provider and the secret holds the key; unset: the stand-ins run
    # (override with `use_stand_ins`).
    openai_api_key: str | None = None
    use_stand_ins: bool | None = None
    max_wait_seconds: float = 25
    url_allowlist: str = ""
    # Template parameters, applied last (they win over the derived ones).
    parameter_overrides: Mapping[str, Any] = field(default_factory=dict)
    quiet: bool = False
    log_path: Path | str | None = None
    # Set: a ceiling on every SQS event source's pollers (a test's); unset: as the template says (stack.pollers_for).
    poller_concurrency: int | None = None
    # Per function, how many invocations run at once (each in its own process).
    max_environments: int = 8
    # Generous: under make test two stacks (one per pytest-xdist worker) start at once on two cores.
    startup_timeout: float = 90.0
    template_path: Path | str = DEFAULT_TEMPLATE
    # Create the local account and key (local.seed; needs the template's one table); off for test templates.
    seed: bool = True
    # A handler that fails to import fails the start (else its invocations fail, as in Lambda).
    strict_init: bool = True
    # Set: every Schedule event fires at this interval instead of its own rate.
    schedule_seconds: float | None = None
    # The worker's provider timeout (ProviderTimeoutSeconds); the stand-in's timeout fault hangs past it, so
    # timeouts are retried for real.
    provider_timeout_seconds: float = 10
    # Where the first Function URL listens (the next ones on the following ports); 0: any free port. Each function
    # with `FunctionUrlConfig` gets its own server, as each has its own URL in AWS.
    function_url_port: int = 0
    # The functions' JSON lines on the console: "short" (one short line each) or "json" (as printed).
    log_format: LogFormat = "json"
    # The routing document (RoutingDocument, an absolute path) while the stand-ins run; with the real provider the
    # template's default stays (its other upstreams have no key here).
    stand_in_routing: Path | str | None = None
    # How long the emulated DynamoDB's transactions hold their items (local.aws.dynamodb_contention); 0: no conflicts.
    transaction_hold_seconds: float = DEFAULT_HOLD_SECONDS
    # Set (a Stripe test-mode key and the `stripe listen` webhook secret): the payments function calls Stripe itself;
    # unset: the Stripe stand-in (local/stand_ins/stripe_api.py) serves it and signs its events.
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    # The seeded console operator's password (RETOUCH_LOCAL_OPERATOR_PASSWORD); unset: a new one each run.
    operator_password: str | None = None

    @property
    def runs_stand_ins(self) -> bool:
        return self.openai_api_key is None if self.use_stand_ins is None else self.use_stand_ins

    @property
    def provider_timeout(self) -> float:
        return float(self.parameter_overrides.get("ProviderTimeoutSeconds", self.provider_timeout_seconds))


class LoopbackStack:
    """The whole Retouch stack on 127.0.0.1 (moto, the functions of template.yaml, gateway, pollers, stand-in
    provider). Named for where it runs, not after the LocalStack product, which it neither uses nor emulates."""

    def __init__(self, **options: Any) -> None:
        """Nothing starts until `start()` (or `with`). `options`: the fields of StackOptions."""
        self.options = StackOptions(**options)
        self.console = Console(quiet=self.options.quiet, log_path=self.options.log_path,
                               render=formatter(self.options.log_format))
        self.template: Template
        self.parameters: dict[str, str] = {}
        self.resources = LocalResources()
        self.provider: Any = None  # a local.stand_ins.StandIn while the stand-in runs
        self.upstreams: Any = None  # a local.stand_ins.upstreams.UpstreamStandIns: the other upstreams' stand-ins
        self._api_server: GatewayServer | None = None
        self.stripe: Any = None  # a local.stand_ins.stripe_api.StripeStandIn unless a Stripe key is given
        self.aws_endpoint_url = ""
        self.base_url = ""
        self.function_urls: dict[str, str] = {}  # function id -> its Function URL (base URL, no path)
        self.api_key: str | None = None
        self.account_id: str | None = None
        # The console's seeded operator (email, password), when the template has a console user pool.
        self.console_operator: ConsoleOperator | None = None
        self.startup_seconds = 0.0
        self._functions: Functions | None = None
        self._pollers: list[SqsPoller] = []
        self._schedules: list[Schedule] = []
        self._moto: MotoServer | None = None
        self._exit = contextlib.ExitStack()
        self._api_url = ""

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
            transaction_hold_seconds=settings.transaction_hold_seconds,
            stripe_secret_key=settings.stripe_secret_key.get_secret_value() if settings.stripe_secret_key else None,
            stripe_webhook_secret=(settings.stripe_webhook_secret.get_secret_value()
                                   if settings.stripe_webhook_secret else None),
            operator_password=settings.operator_password.get_secret_value() if settings.operator_password else None,
            **kwargs,
        )

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> LoopbackStack:
        started = time.monotonic()
        try:
            self._start(deadline=started + self.options.startup_timeout)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        self.console.line("local", f"stack ready at {self.base_url} in {self.startup_seconds:.1f} s")
        return self

    def _start(self, deadline: float) -> None:
        self._exit.callback(self.console.close)
        self.template = Template.load(Path(self.options.template_path))
        # Bind first: a busy PORT should fail in milliseconds, not after every process started.
        api_server = self._api_server = self._bind(self.options.port)
        url_servers = {function_id: self._bind(self._function_url_port(index))
                       for index, function_id in enumerate(self.template.function_urls)}
        self._api_url = api_server.base_url  # the MCP function calls the API (McpApiBaseUrl) before it serves
        resolver = self._start_aws(deadline)
        self._start_functions(resolver, deadline)
        self._start_pollers(resolver)
        self._start_schedules(resolver)
        self._serve_api(api_server, resolver)
        for function_id, url_server in url_servers.items():
            self._serve_function_url(function_id, url_server)

    def _bind(self, port: int) -> GatewayServer:
        server = GatewayServer(port)
        self._exit.callback(server.stop)
        return server

    def _function_url_port(self, index: int) -> int:
        return self.options.function_url_port + index if self.options.function_url_port else 0

    def _start_aws(self, deadline: float) -> Resolver:
        """The emulation (and the stand-ins, which start while it comes up), then the template's resources in it."""
        moto = self._moto = MotoServer(self.console, transaction_hold_seconds=self.options.transaction_hold_seconds)
        self._exit.callback(moto.stop)
        moto.start()
        if self.options.runs_stand_ins:
            self._start_provider()
        self._start_stripe()
        self.aws_endpoint_url = moto.wait_ready(_remaining(deadline))
        self.parameters = parameter_values(
            self.template, self._derived_parameters() | dict(self.options.parameter_overrides))
        creator = ResourceCreator(self.template, self.parameters, self.aws_client,
                                  secret_value=self.options.openai_api_key or STAND_IN_PROVIDER_KEY)
        self.resources = creator.create_all()
        self._put_stripe_keys()
        return Resolver(self.template, self.parameters, self.resources.physical)

    def _start_functions(self, resolver: Resolver, deadline: float) -> None:
        self._exit.callback(self._join_pollers)
        functions = self._functions = Functions({fid: self._pool(fid, resolver) for fid in self.template.functions})
        self._exit.callback(functions.stop)
        self._exit.callback(self._signal_pollers)
        functions.start()
        if self.options.seed:  # overlaps the functions' cold starts
            self.console_operator = self._console_operator()
            self.account_id, self.api_key = seed_account(
                self._seed_table(), self.options.api_key,
                env={**base_environment(), **aws_environment(self.aws_endpoint_url), "PYTHONPATH": str(REPO_ROOT)},
                layer_dirs=self._layer_dirs(), console=self.console, timeout=_remaining(deadline),
                operator=self.console_operator,
            )
        functions.wait_ready(_remaining(deadline), strict_init=self.options.strict_init)

    def _serve_api(self, server: GatewayServer, resolver: Resolver) -> None:
        server.serve(self._gateway(resolver))
        self._exit.callback(server.stop)  # stop accepting requests before anything else stops
        self.base_url = server.base_url
        if self.stripe is not None:
            self.stripe.webhook_url = f"{self.base_url}{STRIPE_WEBHOOK_PATH}"

    def _serve_function_url(self, function_id: str, server: GatewayServer) -> None:
        assert self._functions is not None
        streams = function_id in self.template.streaming_function_urls  # InvokeMode: RESPONSE_STREAM
        server.serve(Gateway(FunctionUrlRoutes(function_id), {}, self._functions.invoke,
                             log=lambda line: self.console.line(f"url:{function_id}", line),
                             limits=FUNCTION_URL_LIMITS,
                             invoke_streaming=self._functions.invoke_streaming if streams else None))
        self._exit.callback(server.stop)
        self.function_urls[function_id] = server.base_url

    @property
    def console_url(self) -> str:
        """The console (console/dist), served by the gateway as CloudFront serves it in AWS."""
        return f"{self.base_url}{CONSOLE_PATH}"

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
        """Upstream name -> base URL of its stand-in (empty when the stand-ins do not run); see
        local.stand_ins.upstreams."""
        return self.upstreams.urls if self.upstreams is not None else {}

    @property
    def moto_pid(self) -> int | None:
        """The AWS emulation's process (its memory is what grows with a long run)."""
        return self._moto.pid if self._moto is not None else None

    def function_pool(self, function_id: str) -> FunctionPool:
        assert self._functions is not None, "start() first"
        return self._functions.pool(function_id)

    def aws_client(self, service: str, *, app_id: str | None = None) -> Any:
        """A boto3 client for the emulation, safe to build from any thread. `app_id` names the caller in its requests'
        User-Agent (`app/<id>`), as AWS_SDK_UA_APP_ID does for the functions."""
        with _CLIENTS_SESSION_LOCK:  # a session builds one client at a time; the clients it built are thread-safe
            return _clients_session().client(
                service,
                endpoint_url=self.aws_endpoint_url,
                region_name=REGION,
                aws_access_key_id=LOCAL_CREDENTIAL,
                aws_secret_access_key=LOCAL_CREDENTIAL,
                config=Config(retries={"mode": "standard", "max_attempts": 3}, user_agent_appid=app_id),
            )

    # --- parts ------------------------------------------------------------------------------

    def _start_provider(self) -> None:
        from local.stand_ins import FakeProvider
        from local.stand_ins.upstreams import UpstreamStandIns

        self.provider = FakeProvider(host="127.0.0.1", port=0, delay=self.options.provider_delay,
                                     hang_seconds=self.options.provider_timeout + TIMEOUT_FAULT_MARGIN_SECONDS)
        self.provider.start()
        self._exit.callback(self.provider.stop)
        # Threads of this process, like the OpenAI stand-in: about 0.1 s to start.
        self.upstreams = UpstreamStandIns(delay=self.options.provider_delay,
                                          hang_seconds=self.provider.hang_seconds,
                                          api_key=STAND_IN_PROVIDER_KEY)
        self.upstreams.start()
        self._exit.callback(self.upstreams.stop)

    def _start_stripe(self) -> None:
        """The Stripe stand-in, when the template has payments and no Stripe key is given."""
        if STRIPE_SECRET_ID not in self.template.resources or self.options.stripe_secret_key is not None:
            return
        from local.stand_ins.stripe_api import StripeStandIn

        self.stripe = StripeStandIn(api_key=STAND_IN_STRIPE_KEY, delay=0)
        self.stripe.start()
        self._exit.callback(self.stripe.stop)

    def _put_stripe_keys(self) -> None:
        """The Stripe secret's JSON: the stand-in's key and webhook secret, or the ones given."""
        arn = self.resources.secrets.get(STRIPE_SECRET_ID)
        if arn is None:
            return
        # Never a placeholder while payments should work: the payments function refuses one (503
        # payments_not_enabled). The stand-in's webhook secret is a fresh whsec_…; LocalSettings requires
        # STRIPE_WEBHOOK_SECRET with STRIPE_SECRET_KEY, so the fallback is only for options built without one.
        if self.stripe is not None:
            keys = {"secret_key": STAND_IN_STRIPE_KEY, "webhook_secret": self.stripe.webhook_secret}
        else:
            keys = {"secret_key": self.options.stripe_secret_key,
                    "webhook_secret": self.options.stripe_webhook_secret or "replace-me"}
        self.aws_client("secretsmanager").put_secret_value(SecretId=arn, SecretString=json.dumps(keys))

    def _derived_parameters(self) -> dict[str, Any]:
        """Local choices for the template's parameters, where the template has them (test templates may not)."""
        derived: dict[str, Any] = {"MaxWaitSeconds": self.options.max_wait_seconds,
                                   "ProviderTimeoutSeconds": self.options.provider_timeout}
        # The stand-ins serve plain http (and their output images) on loopback: the worker accepts that only from
        # allowlisted hosts, so each stand-in's own host:port joins the operator's allowlist (the input-URL rule).
        stand_in_urls: list[str] = []
        if self.provider is not None:
            derived["ProviderBaseUrl"] = self.provider.base_url
            stand_in_urls.append(self.provider.base_url)
        if self.upstreams is not None:
            derived[UPSTREAM_URLS_PARAMETER] = self.upstreams.to_json()
            stand_in_urls.extend(json.loads(derived[UPSTREAM_URLS_PARAMETER]).values())
            if self.options.stand_in_routing is not None:
                derived["RoutingDocument"] = str(Path(self.options.stand_in_routing).resolve())
        if self.stripe is not None:
            derived[STRIPE_API_BASE_PARAMETER] = self.stripe.origin
        derived["UrlAllowlist"] = allowlist_with(self.options.url_allowlist, stand_in_urls)
        derived["McpApiBaseUrl"] = self._api_url  # issue 22: the MCP function calls this stack's API
        # Upstreams that call back (fal's webhooks) call this stack's API; the fal stand-in signs with its own keys.
        if self._api_server is not None:
            derived["UpstreamCallbackBaseUrl"] = self._api_server.base_url
            # Stripe's checkout page (the stand-in's) sends the customer back to the console's billing page.
            derived["CheckoutReturnUrl"] = f"{self._api_server.base_url}{CONSOLE_PATH}billing"
        if self.upstreams is not None and "fal" in self.upstreams.by_name:
            derived["FalJwksUrl"] = f"{self.upstreams.by_name['fal'].origin}{JWKS_PATH}"
        return {name: value for name, value in derived.items() if name in self.template.parameters}

    def _pool(self, function_id: str, resolver: Resolver) -> FunctionPool:
        spec = self.template.functions[function_id]
        env = self._function_env(function_id, resolver)
        # Reserved concurrency caps a function's invocations in AWS, refusing synchronous ones past it; locally too.
        reserved = resolver.resolve(
            (self.template.resources[function_id].get("Properties") or {}).get("ReservedConcurrentExecutions"))
        # None or NoValue: no reservation
        cap = int(reserved) if isinstance(reserved, (int, str)) else None
        environments = self.options.max_environments if cap is None else min(self.options.max_environments, cap)
        return FunctionPool(spec.short_name, lambda prefix: FunctionHost(spec, env, self.console, prefix),
                            max_environments=max(1, environments), reserved_concurrency=cap)

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

    def _console_operator(self) -> ConsoleOperator | None:
        """The operator to seed in the template's console user pool (none without one)."""
        pools, clients = self.resources.user_pools, self.template.resources_of_type(USER_POOL_CLIENT_TYPE)
        if len(pools) != 1 or len(clients) != 1:
            return None
        return ConsoleOperator.new(next(iter(pools.values())), self.resources.ref(next(iter(clients))),
                                   self.options.operator_password)

    def _seed_table(self) -> str:
        if len(self.resources.tables) != 1:
            raise TemplateError(f"seeding needs exactly one table, the template has {sorted(self.resources.tables)}")
        return next(iter(self.resources.tables.values()))

    def _gateway(self, resolver: Resolver) -> Gateway:
        assert self._functions is not None
        authorizers = {name: LambdaAuthorizer(spec, self._functions.invoke)
                       for name, spec in self.template.authorizers.items()}
        return Gateway(RouteTable(self.template.http_routes), authorizers, self._functions.invoke,
                       log=lambda line: self.console.line("gateway", line), throttle=route_throttle(self.template,
                                                                                                     resolver),
                       console_site=ConsoleSite(CONSOLE_DIST, s3_origin=self.aws_endpoint_url))

    def _start_pollers(self, resolver: Resolver) -> None:
        assert self._functions is not None
        for declared in self.template.sqs_mappings:
            if not declared.enabled:
                continue
            mapping = declared.resolved(resolver.resolve)
            poller = SqsPoller(
                mapping,
                queue_url=self.resources.queues[mapping.queue_id],
                queue_arn=self.resources.queue_arns[mapping.queue_id],
                sqs=self.aws_client("sqs"),
                invoke=self._functions.invoke,
                log=lambda line: self.console.line("sqs", line),
                concurrency=self.pollers_for(mapping),
            )
            poller.start()
            self._pollers.append(poller)

    def pollers_for(self, mapping: SqsMappingSpec) -> int:
        """How many of an event source's invocations run at once: its ScalingConfig.MaximumConcurrency, where AWS caps
        it (the worker's WorkerMaxConcurrency), else DEFAULT_POLLERS; a stack given poller_concurrency has at most that.
        """
        wanted = mapping.maximum_concurrency or DEFAULT_POLLERS
        ceiling = self.options.poller_concurrency
        return min(wanted, ceiling) if ceiling else wanted

    def pollers_of(self, function_id: str) -> int:
        """The pollers invoking a function (the environments it needs when every one is busy)."""
        return sum(poller.concurrency for poller in self._pollers if poller.mapping.function_id == function_id)

    def _start_schedules(self, resolver: Resolver) -> None:
        assert self._functions is not None
        for spec in self.template.schedules:
            if not spec.enabled:
                continue
            every = self.options.schedule_seconds or rate_seconds(str(resolver.resolve(spec.schedule)))
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


def route_throttle(template: Template, resolver: Resolver) -> TokenBucket | None:
    """The HTTP API's default route throttle from the template, its parameters resolved (None: the API sets none).
    API Gateway's account-level defaults (10,000 rps, 5,000 burst) apply when a stage sets none: never reached here."""
    declared = template.default_route_throttle
    if declared is None:
        return None
    rate, burst = (resolver.resolve(value) for value in declared)
    if rate is None or burst is None:
        return None
    return TokenBucket(RouteThrottle(rate_per_second=float(rate), burst=int(burst)))


def _remaining(deadline: float) -> float:
    return max(0.1, deadline - time.monotonic())


def allowlist_with(allowlist: str, urls: list[str]) -> str:
    """`allowlist` (UrlAllowlist's "host[:port],..." text) plus each URL's host:port."""
    entries = [entry.strip() for entry in allowlist.split(",") if entry.strip()]
    for url in urls:
        parts = urlsplit(url)
        host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
        entry = f"{host}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
        if host and entry not in entries:
            entries.append(entry)
    return ",".join(entries)
