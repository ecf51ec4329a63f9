"""The upstream contract: what each provider adapter declares it can do, and how a call ends (finished or pending).

Every adapter (one module per upstream) declares its `Capabilities` and refuses, before any HTTP call, a request
it cannot serve (`check`). A call is `submit()`; a synchronous upstream answers `Finished` at once, an asynchronous
one answers `Pending` with a JSON-serialisable `PollHandle` that `poll()` later turns into `Finished` (or another
`Pending`). The worker is meant to carry the handle on a delayed SQS message between polls, so no function waits
for the model; until then `wait_for()` polls in-process for the existing `ImageProvider.edit` port.

Input images reach URL-taking upstreams as short-lived presigned GET URLs made by the caller's `Presign` callable:
the adapter never talks to S3.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, Protocol

from retouch.providers.base import InputImage, ProviderRefused, ProviderResult, ProviderUnavailable

# An input image -> a short-lived GET URL for it. The caller presigns `storage_key`, or, for an image with no key
# (a mask an adapter converted), stores the bytes under a temporary key first.
Presign = Callable[[InputImage], str]

Mode = Literal["sync", "async"]
Inputs = Literal["bytes", "url"]
# How the mask marks the area to edit: OpenAI's alpha (transparent = edit) or a black/white image (white = edit).
MaskKind = Literal["alpha", "white_edits"]


@dataclass(frozen=True)
class Capabilities:
    """What one upstream can do for one model, as its documentation states. `sizes` None: any size the model's
    own rules allow (the catalog checks those at submit)."""

    upstream: str
    mode: Mode
    inputs: Inputs
    mask: MaskKind | None
    max_images: int
    max_n: int
    sizes: tuple[str, ...] | None
    qualities: tuple[str, ...]
    output_formats: tuple[str, ...]
    reports_cost: bool
    operations: tuple[str, ...] = ("edit",)
    notes: str = ""

    def table_row(self) -> dict[str, Any]:
        """One row of the upstream x capability table (docs, GET /v1/models)."""
        return {
            "upstream": self.upstream, "mode": self.mode, "inputs": self.inputs,
            "mask": self.mask or "no", "max_images": self.max_images, "max_n": self.max_n,
            "sizes": list(self.sizes) if self.sizes is not None else "model's rules",
            "reports_cost": self.reports_cost, "operations": list(self.operations),
        }


def refusal(capabilities: Capabilities, *, operation: str, images: list[InputImage], mask: InputImage | None,
            options: dict[str, Any]) -> tuple[str, str] | None:
    """(param, reason) when this upstream cannot serve the request as asked; None when it can."""
    return refusal_of_shape(capabilities, operation=operation, image_count=len(images), has_mask=mask is not None,
                            options=options)


def refusal_of_shape(capabilities: Capabilities, *, operation: str, image_count: int, has_mask: bool,
                     options: dict[str, Any]) -> tuple[str, str] | None:
    """`refusal` from the request's shape alone (how many images, whether a mask), as known at submit."""
    name = capabilities.upstream
    if operation not in capabilities.operations:
        return "model", f"{name} does not offer image {operation}s"
    if image_count > capabilities.max_images:
        return "image", f"{name} takes at most {capabilities.max_images} input images"
    if has_mask and capabilities.mask is None:
        return "mask", f"{name} does not take a mask"
    n = int(options.get("n") or 1)
    if n > capabilities.max_n:
        return "n", f"{name} makes at most {capabilities.max_n} images per request"
    size = options.get("size") or "auto"
    if capabilities.sizes is not None and size not in capabilities.sizes:
        return "size", f"{name} makes only sizes {', '.join(capabilities.sizes)}"
    quality = options.get("quality") or "auto"
    if quality not in capabilities.qualities:
        return "quality", f"{name} offers only quality {', '.join(capabilities.qualities)}"
    output_format = options.get("output_format") or "png"
    if output_format not in capabilities.output_formats:
        return "output_format", f"{name} returns only {', '.join(capabilities.output_formats)}"
    return None


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


def wait_for(adapter: UpstreamAdapter, outcome: Outcome, *, max_wait_seconds: float,
             sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> Finished:
    """Poll a pending outcome in-process until it finishes (the stop-gap for the synchronous `ImageProvider` port;
    the worker will poll through delayed messages instead). Gives up as ProviderUnavailable after `max_wait_seconds`."""
    deadline = clock() + max_wait_seconds
    while isinstance(outcome, Pending):
        pause = max(1, outcome.handle.poll_after_seconds)
        if clock() + pause > deadline:
            raise ProviderUnavailable("provider_timeout",
                                      f"{outcome.handle.upstream} job {outcome.handle.upstream_job_id} did not finish "
                                      f"within {max_wait_seconds:.0f} s")
        sleep(pause)
        outcome = adapter.poll(outcome.handle)
    return outcome


def bad_response(upstream: str, reason: str) -> ProviderUnavailable:
    return ProviderUnavailable("provider_bad_response", f"{upstream} sent an unusable response: {reason}")


class ImageProviderPort:
    """The existing synchronous `ImageProvider` port over an adapter's submit/poll (polling in-process for async
    upstreams, for at most `max_wait_seconds`). Subclasses define `capabilities`, `submit` and `poll`."""

    capabilities: Capabilities
    max_wait_seconds: float = 600.0
    _sleep: Callable[[float], None] = staticmethod(time.sleep)

    @property
    def upstream(self) -> str:
        """The `upstream` dimension of its metrics."""
        return self.capabilities.upstream

    def submit(self, *, images: list[InputImage], mask: InputImage | None, options: dict[str, Any]) -> Outcome:
        raise NotImplementedError

    def poll(self, handle: PollHandle) -> Outcome:
        """Asynchronous upstreams override this; a synchronous one answered at submit and has no job to poll."""
        raise bad_response(self.capabilities.upstream, "a synchronous upstream has no job to poll")

    def edit(self, *, images: list[InputImage], mask: InputImage | None, options: dict[str, Any]) -> ProviderResult:
        outcome = self.submit(images=images, mask=mask, options=options)
        return wait_for(self, outcome, max_wait_seconds=self.max_wait_seconds, sleep=self._sleep).result

    def generate(self, *, options: dict[str, Any]) -> ProviderResult:
        return self.edit(images=[], mask=None, options=options)


def presigned_urls(presign: Presign, images: list[InputImage]) -> list[str]:
    return [presign(image) for image in images]
