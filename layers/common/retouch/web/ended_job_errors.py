"""A job that ended `failed` or `canceled` while its request waited, answered as OpenAI answers a failed call: the
OpenAI SDKs raise it (a `200` with an empty `data` would hand OpenAI's own sample code an IndexError instead).

A refusal of the request (a safety refusal, an unreadable image, an input URL that cannot be fetched, ...) is a
`400 invalid_request_error`; an upstream that failed or timed out a `502`/`504` and anything else on our side a `500`,
each a `server_error`; a job canceled meanwhile a `409 job_canceled`. The code is the job's own (docs/api.md lists
them), the job is named in the message and in `Location`, and `x-should-retry: false` keeps the SDKs from sending
the request again on their own: the platform already retried, and another send is another paid job.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from retouch.models.records import JobRecord
from retouch.web.errors import error_response

# An upstream's refusal of the request itself (its safety system, its validation) is the client's, as OpenAI's are.
_UPSTREAM_REFUSALS = frozenset({"provider_safety_refusal", "provider_rejected_request"})
_UPSTREAM_FAILURES = ("provider_", "paid_attempts_")
_OUR_FAILURES = ("processing_", "job_stalled", "queue_", "storage_")
NOT_RETRIED = {"x-should-retry": "false"}


def failure_status(code: str) -> tuple[int, str]:
    """The HTTP status and OpenAI error type for a job that ended with error `code`."""
    if code in _UPSTREAM_REFUSALS:
        return 400, "invalid_request_error"
    if code == "provider_timeout":
        return 504, "server_error"
    if code.startswith(_UPSTREAM_FAILURES):
        return 502, "server_error"
    if code.startswith(_OUR_FAILURES):
        return 500, "server_error"
    return 400, "invalid_request_error"


def ended_job_error(record: JobRecord, headers: dict[str, str]) -> Response[str]:
    """The error answer for a waited job that ended without images (`failed` or `canceled`)."""
    if record.status == "canceled":
        return error_response(409, f"Job '{record.job_id}' was canceled.", "invalid_request_error",
                              code="job_canceled", headers={**headers, **NOT_RETRIED})
    code = record.error.code if record.error is not None else "processing_failed"
    message = record.error.message if record.error is not None else "The job failed."
    status, error_type = failure_status(code)
    return error_response(status, f"Job '{record.job_id}' failed: {message}", error_type, code=code,
                          headers={**headers, **NOT_RETRIED})
