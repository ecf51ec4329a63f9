"""The upstream contract, the one port every provider adapter implements: what it declares it can do, and how a
call ends (finished or pending).

Every adapter (one module per upstream, registered in `retouch.upstream_registry`) declares its `Capabilities` and
refuses, before any HTTP call, a request it cannot serve (`check`). A call is `submit()`; a synchronous upstream
answers `Finished` at once, an asynchronous one answers `Pending` with a JSON-serialisable `PollHandle`. The worker
stores the handle on the job and a delayed SQS message brings the job back to `poll()` (jobs/upstream_calls.py), so
no function waits for the model.

Input images reach URL-taking upstreams as short-lived presigned GET URLs made by the caller's `Presign` callable:
the adapter never talks to S3.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from retouch.providers.base import InputImage, ProviderRefused, ProviderResult, ProviderUnavailable
from retouch.upstream_registry import UPSTREAMS, Capabilities, load, refusal_of_shape

if TYPE_CHECKING:
    import httpx

    from retouch.outbound_http.url_safety import ResolveFn

# An input image -> a short-lived GET URL for it. The caller presigns `storage_key`, or, for an image with no key
# (a mask an adapter converted), stores the bytes under a temporary key first.
Presign = Callable[[InputImage], str]

def refusal(capabilities: Capabilities, *, operation: str, images: list[InputImage], mask: InputImage | None,
            options: dict[str, Any]) -> tuple[str, str] | None:
    """(param, reason) when this upstream cannot serve the request as asked; None when it can."""
    return refusal_of_shape(capabilities, operation=operation, image_count=len(images), has_mask=mask is not None,
                            options=options)


def check(capabilities: Capabilities, *, operation: str, images: list[InputImage], mask: InputImage | None,
          options: dict[str, Any]) -> None:
    """Raise ProviderRefused (never retried) when the upstream cannot serve the request: before any call."""
    problem = refusal(capabilities, operation=operation, images=images, mask=mask, options=options)
    if problem is not None:
        param, reason = problem
        raise ProviderRefused("unsupported_by_upstream", f"{reason} (parameter '{param}').")


@dataclass(frozen=True)
class Finished:
    """A call that produced its images: the upstream's own job id, its cost when it reports one, and latency."""

    result: ProviderResult
    upstream: str
    upstream_job_id: str | None
    cost_micros: int | None
    latency_ms: int


@dataclass(frozen=True)
class PollHandle:
    """Where an asynchronous upstream's job can be asked about. JSON-safe (`to_json`/`from_json`), so it can ride
    on a delayed SQS message; holds no secret (the adapter adds its key on each poll)."""

    upstream: str
    upstream_job_id: str
    status_url: str
    result_url: str | None
    submitted_at: float  # epoch seconds, for the latency of the whole job
    poll_after_seconds: int
    output_format: str = "png"
    extra: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PollHandle:
        # The job table drops None attributes, so a stored handle may lack `result_url` (Oxen, ModelsLab have none).
        return cls(**{"result_url": None, **data})


@dataclass(frozen=True)
class Pending:
    handle: PollHandle


Outcome = Finished | Pending


class UpstreamAdapter(Protocol):
    capabilities: Capabilities

    def submit(self, *, images: list[InputImage], mask: InputImage | None, options: dict[str, Any]) -> Outcome:
        """Check the request against `capabilities` (ProviderRefused before any call), then send it."""
        ...

    def poll(self, handle: PollHandle) -> Outcome:
        """Ask an asynchronous upstream about a pending job once."""
        ...


def usd_to_micros(amount: Any) -> int | None:
    """A provider's reported USD amount (number or numeric string) in micro-dollars, or None when unusable."""
    if isinstance(amount, bool) or not isinstance(amount, (int, float, str)):
        return None
    try:
        value = Decimal(str(amount))
    except ArithmeticError:
        return None
    if not value.is_finite() or value < 0:
        return None
    return int((value * 1_000_000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL, the port filled in; None when `url` is not one."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    return scheme, parts.hostname.rstrip(".").lower(), port or (443 if scheme == "https" else 80)


def same_origin(url: object, base_url: str) -> bool:
    """`url` is on `base_url`'s origin: the only place an adapter sends its key to a URL an answer named."""
    return isinstance(url, str) and origin(url) is not None and origin(url) == origin(base_url)


def bad_response(upstream: str, reason: str) -> ProviderUnavailable:
    return ProviderUnavailable("provider_bad_response", f"{upstream} sent an unusable response: {reason}")


class Synchronous:
    """What a synchronous adapter inherits: it answered at submit, so it has no job to poll."""

    capabilities: Capabilities

    def poll(self, handle: PollHandle) -> Outcome:
        raise bad_response(self.capabilities.upstream, "a synchronous upstream has no job to poll")


@dataclass(frozen=True)
class OutputUrls:
    """Where an upstream's output image URLs may be downloaded from: the rule input URLs follow
    (outbound_http.url_safety.check_url: public addresses only, except `allowlist` hosts, never metadata or
    link-local; the connection pinned to the vetted address). `resolve` stands in for DNS in tests."""

    allowlist: frozenset[str] = frozenset()
    resolve: ResolveFn | None = None


@dataclass(frozen=True)
class AdapterConfig:
    """What the worker knows about one routing entry when it builds the entry's adapter: each upstream module's
    `from_config(config)` (the factory its registry entry names) makes its adapter from this."""

    api_key: str
    timeout_seconds: float
    presign: Presign  # an input image -> a short-lived GET URL (for upstreams that take URLs)
    model: str  # the model's name at this upstream (the routing entry's `model`, else the registry's)
    base_url: str | None = None  # the routing entry's or UpstreamBaseUrls'; None: the upstream's documented URL
    deployment: str | None = None
    api_version: str | None = None
    client: httpx.Client | None = None  # tests pass a client over a fake transport
    outputs: OutputUrls = field(default_factory=OutputUrls)  # the worker's UrlAllowlist


AdapterFactory = Callable[[AdapterConfig], UpstreamAdapter]


def build_adapter(kind: str, config: AdapterConfig) -> UpstreamAdapter:
    """Upstream `kind`'s adapter, made by the factory its registry entry names (imported now, on first use)."""
    factory: AdapterFactory = load(UPSTREAMS[kind].adapter)
    return factory(config)


def presigned_urls(presign: Presign, images: list[InputImage]) -> list[str]:
    return [presign(image) for image in images]
