"""X-Ray through Powertools Tracer, and the one correlation id of a job's life (its job id) on every log line.

Only botocore is patched: the worker's httpx stays a lazy import (loaded on the first job, not at cold start), and
its provider calls are measured by `metrics.provider_call`. Outside Lambda (tests, `make run` with
POWERTOOLS_TRACE_DISABLED) the Tracer is disabled, yet its constructor still imports the X-Ray SDK (~10 ms with
LAMBDA_TASK_ROOT set, as in Lambda and the local runtime; without it the SDK's recorder also builds two botocore
clients for centralized sampling, ~100 ms).
"""

from __future__ import annotations

import threading

from aws_lambda_powertools import Logger, Tracer

PATCHED_MODULES = ("botocore",)

tracer = Tracer(patch_modules=PATCHED_MODULES)
_logger = Logger()  # shares the functions' handler, so keys appended here appear on every function's lines


def correlate(job_id: str, account_id: str | None = None, *, this_thread_only: bool = False) -> None:
    """From now on this invocation's log lines carry `correlation_id` = the job id (and the account id), and its
    trace is annotated with both, so one job is found across api, worker, webhook and dead letter.

    `this_thread_only`: for a function that runs several jobs at once on threads (the webhook function, the worker's
    batches); its keys are the thread's own and its trace is not annotated (X-Ray's segment belongs to the handler's
    thread). Off the main thread (where Lambda runs the handler) that is always so: a key appended for the whole
    process from a record's thread would land on its sibling records' lines.
    """
    keys = {"correlation_id": job_id, "account_id": account_id}
    if this_thread_only or threading.current_thread() is not threading.main_thread():
        _logger.thread_safe_append_keys(**keys)
        return
    _logger.append_keys(**keys)
    tracer.put_annotation(key="job_id", value=job_id)
    if account_id:
        tracer.put_annotation(key="account_id", value=account_id)


def forget_thread_keys() -> None:
    """Drop this thread's own log keys: a pool thread's keys outlive the record it ran."""
    _logger.thread_safe_clear_keys()
