"""Domain errors. Each knows its HTTP status and OpenAI error type; the web layer maps them in one place."""

from __future__ import annotations


class RetouchError(Exception):
    status_code = 500
    error_type = "server_error"
    default_code: str | None = None

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code or self.default_code
        self.headers: dict[str, str] = {}


class InvalidRequest(RetouchError):
    status_code = 400
    error_type = "invalid_request_error"
    default_code = "invalid_value"


class UnsupportedParameter(InvalidRequest):
    default_code = "unsupported_parameter"


class UnknownParameter(InvalidRequest):
    default_code = "unknown_parameter"


class ModelNotFound(InvalidRequest):
    default_code = "model_not_found"


class InvalidImage(InvalidRequest):
    default_code = "invalid_image"


class Unauthenticated(RetouchError):
    status_code = 401
    error_type = "invalid_request_error"
    default_code = "invalid_api_key"


class JobNotFound(RetouchError):
    status_code = 404
    error_type = "invalid_request_error"
    default_code = "job_not_found"


class PayloadTooLarge(RetouchError):
    status_code = 413
    error_type = "invalid_request_error"
    default_code = "payload_too_large"


class UnsupportedMediaType(RetouchError):
    status_code = 415
    error_type = "invalid_request_error"
    default_code = "unsupported_media_type"


class QueueUnavailable(RetouchError):
    status_code = 503
    error_type = "server_error"
    default_code = "queue_unavailable"


class JobFailure(Exception):
    """Ends a job `failed` with a stable code (worker side; never an HTTP response)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
