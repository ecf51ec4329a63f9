"""Bounding what a job's upstream calls may cost the operator when they do not serve it.

An upstream bills a call it worked on, whether or not its answer reached us: a call that timed out, one answered 2xx
with nothing usable, an asynchronous job accepted and then given up. Those are **possibly paid**; the tenant is
charged nothing for them. So:

- each call's timeout is **sized from the request** (`call_timeout_seconds`: twice what it should take, at least
  MIN_CALL_SECONDS, at most the configured provider timeout): a request expected to be quick gets a shorter one (an
  upstream that does not answer it is down, and the next one is tried soon), a slow one up to the whole timeout;
- a request **known to be slow** (expected to take SLOW_SECONDS or more: high quality, large, many images) that times
  out even so is **not retried nor sent elsewhere**: the upstream was most likely still making it, and another call
  would pay again. The job fails `provider_timeout`, uncharged;
- a job stops after `MAX_UNSERVED_PAID_CALLS` possibly-paid calls that did not serve it (across deliveries, counted
  from its recorded attempts): it fails `paid_attempts_exhausted` instead of paying for another.

Every possibly-paid call is flagged on the job's attempts (`possibly_paid`), counted on the job
(`possibly_paid_attempts`) and in `retouch-admin margin`.
"""

from __future__ import annotations

from retouch.models.records import JobRecord, UpstreamAttempt
from retouch.providers.upstream import PollHandle

# Failures after which the upstream may have billed: it was sent the request and took it (no answer in time, or an
# answer we could not use).
POSSIBLY_PAID_CODES = frozenset({"provider_timeout", "provider_bad_response"})
# Outcomes of calls the upstream accepted (served, or took as an asynchronous job).
_ACCEPTED = frozenset({"succeeded", "pending"})
MAX_UNSERVED_PAID_CALLS = 2

# How long a model takes, roughly (gpt-image-2 takes 60-150 s, more at high quality: docs/architecture.md): a fixed
# part, seconds per output megapixel by quality, and per input image.
_BASE_SECONDS = 45.0
_SECONDS_PER_MEGAPIXEL = {"low": 20.0, "medium": 45.0, "high": 90.0}
_SECONDS_PER_INPUT = 3.0
_AUTO_PIXELS = 1536 * 1024  # the largest size `auto` resolves to
# A call is given at least this long, and twice what the request is expected to take, within the configured timeout.
MIN_CALL_SECONDS = 90.0
_HEADROOM = 2.0
# A request expected to take this long is known to be slow (high quality, several medium images, many inputs):
# a timeout then most likely cut the upstream off while it was making (and billing) the image.
SLOW_SECONDS = 120.0


def expected_seconds(job: JobRecord) -> float:
    request = job.request
    size = request.get("size")
    width, _, height = str(size or "auto").partition("x")
    pixels = int(width) * int(height) if width.isdigit() and height.isdigit() else _AUTO_PIXELS
    per_megapixel = _SECONDS_PER_MEGAPIXEL.get(str(request.get("quality")), _SECONDS_PER_MEGAPIXEL["high"])
    inputs = len(job.inputs) + (1 if job.mask is not None else 0)
    return (_BASE_SECONDS + int(request.get("n", 1)) * per_megapixel * pixels / 1_000_000
            + _SECONDS_PER_INPUT * inputs)


def call_timeout_seconds(job: JobRecord, configured: float) -> float:
    """The timeout of one upstream call for this job: twice what it should take, at least MIN_CALL_SECONDS, at most
    the configured provider timeout."""
    return min(configured, max(MIN_CALL_SECONDS, _HEADROOM * expected_seconds(job)))


def known_slow(job: JobRecord) -> bool:
    """The request is expected to take SLOW_SECONDS or more: one that times out was most likely still being made."""
    return expected_seconds(job) >= SLOW_SECONDS


def is_possibly_paid(attempt: UpstreamAttempt) -> bool:
    return attempt.outcome in _ACCEPTED or (attempt.outcome == "unavailable" and attempt.code in POSSIBLY_PAID_CODES)


def possibly_paid_calls(job: JobRecord) -> list[UpstreamAttempt]:
    """The job's calls an upstream may have billed, one per upstream job (a pending call, its answer or its giving
    up are one call; the attempt kept is its success, else the one with a reported cost, else the first)."""
    calls: dict[tuple[str, str], UpstreamAttempt] = {}
    for index, attempt in enumerate(job.upstream_attempts):
        if not is_possibly_paid(attempt):
            continue
        key = (attempt.upstream, attempt.upstream_job_id or f"#{index}")
        known = calls.get(key)
        if (known is None or attempt.outcome == "succeeded"
                or (known.cost_micros is None and attempt.cost_micros is not None)):
            calls[key] = attempt
    return list(calls.values())


def unserved_paid_calls(job: JobRecord) -> list[UpstreamAttempt]:
    """Possibly-paid calls less the one that served the job's success (if it succeeded)."""
    calls = possibly_paid_calls(job)
    if job.status == "succeeded":
        served = next((c for c in calls if c.outcome == "succeeded" and c.upstream == job.upstream), None)
        if served is not None:
            calls.remove(served)
    return calls


def unserved_so_far(job: JobRecord) -> int:
    """While the job runs: its possibly-paid calls that served nothing, less the asynchronous call still awaited."""
    awaited = None
    if job.pending_call is not None:
        awaited = (job.pending_call.upstream, PollHandle.from_json(job.pending_call.handle).upstream_job_id)
        last = next((attempt.outcome for attempt in reversed(job.upstream_attempts)
                     if (attempt.upstream, attempt.upstream_job_id) == awaited), None)
        if last not in (None, "pending"):  # it failed or was given up: no longer awaited, so it counts
            awaited = None
    return sum(1 for call in possibly_paid_calls(job)
               if call.outcome != "succeeded" and (call.upstream, call.upstream_job_id) != awaited)
