"""An upstream's call saying a job is done (fal's webhook): authenticated, matched to the job's pending call, and
turned into the job's poll message sent at once, so the worker fetches the result now rather than at its next delayed
poll. The worker does what it does for any poll (claims it by `poll_seq`, asks the upstream, finishes the job), so a
callback needs no trust beyond "wake this job": a forged one could at most cause one early poll, and it is refused
anyway. A callback for a job that is not waiting on that upstream job (late, repeated, after a fallback) is
acknowledged and ignored; the delayed polls go on as the fallback for a callback that never comes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from retouch.errors import CallbackNotAuthentic, UnknownCallback
from retouch.ports import JobRepository
from retouch.providers.base import ProviderError
from retouch.providers.upstream import PollHandle

logger = Logger(child=True)

_JOB_ID = re.compile(r"^job_[A-Za-z0-9]{24}$")

# (headers, raw body) -> the upstream's own job id the authenticated call is about; ProviderError when not authentic.
Verifier = Callable[[Mapping[str, str], bytes], str]


@dataclass(frozen=True)
class CallbackDeps:
    jobs: JobRepository
    verifiers: Mapping[str, Verifier]  # upstream kind -> how its calls are authenticated
    kind_of: Callable[[str], str | None]  # a routing entry's name -> its upstream kind
    wake: Callable[[str, int], None]  # sends the job's poll message (job id, poll_seq) with no delay


def wake_on_callback(kind: str, job_id: str, headers: Mapping[str, str], body: bytes, deps: CallbackDeps) -> bool:
    """True when the call woke the job; False when it was authentic but about nothing the job waits for."""
    verifier = deps.verifiers.get(kind)
    if verifier is None:
        raise UnknownCallback(f"No callbacks are taken from '{kind}'.", param="upstream")
    try:
        upstream_job_id = verifier(headers, body)
    except ProviderError as exc:
        logger.warning("upstream callback refused", extra={"upstream": kind, "job_id": job_id, "reason": exc.message})
        raise CallbackNotAuthentic("The callback could not be authenticated.") from exc
    record = deps.jobs.get(job_id) if _JOB_ID.match(job_id) else None
    pending = record.pending_call if record is not None and not record.is_terminal else None
    if (pending is None or deps.kind_of(pending.upstream) != kind
            or PollHandle.from_json(pending.handle).upstream_job_id != upstream_job_id):
        logger.info("upstream callback for nothing waiting", extra={"upstream": kind, "job_id": job_id})
        return False
    deps.wake(job_id, pending.seq)
    logger.info("upstream callback woke the job", extra={"upstream": kind, "job_id": job_id, "poll_seq": pending.seq})
    return True
