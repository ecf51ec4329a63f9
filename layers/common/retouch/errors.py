"""Domain errors. A RetouchError knows its HTTP status and OpenAI error type; the web layer maps them in one place.
A CodedError (a job's failure, a provider's, an outbound URL's) carries a stable code and message instead: the
worker records it on the job, and the API turns it into a RetouchError where one reaches a client."""

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


class UnusableFile(InvalidRequest):
    """An edit names a file that is missing, another account's, still pending, expired or rejected."""

    default_code = "file_not_usable"


class InvalidWebhookUrl(InvalidRequest):
    default_code = "invalid_webhook_url"


class WebhookSecretMissing(InvalidRequest):
    default_code = "webhook_secret_missing"


class InvalidIdempotencyKey(InvalidRequest):
    default_code = "invalid_idempotency_key"


class IdempotencyKeyReused(RetouchError):
    """The Idempotency-Key was used for a different request (other parameters, inputs or route)."""

    status_code = 422
    error_type = "invalid_request_error"
    default_code = "idempotency_key_reused"


class IdempotencyKeyInUse(RetouchError):
    """The request that first used the Idempotency-Key is still being processed."""

    status_code = 409
    error_type = "invalid_request_error"
    default_code = "idempotency_key_in_use"

    def __init__(self, message: str, *, retry_after_seconds: int, param: str | None = None) -> None:
        super().__init__(message, param=param)
        self.headers["Retry-After"] = str(retry_after_seconds)


class NoWebhookEvent(RetouchError):
    """Redelivery asked for a job that has no webhook or has not emitted an event yet."""

    status_code = 409
    error_type = "invalid_request_error"
    default_code = "no_webhook_event"


class Unauthenticated(RetouchError):
    status_code = 401
    error_type = "invalid_request_error"
    default_code = "invalid_api_key"


class UnknownModel(RetouchError):
    """GET /v1/models/{id} for a model the catalog does not list (OpenAI answers 404 model_not_found)."""

    status_code = 404
    error_type = "invalid_request_error"
    default_code = "model_not_found"


class JobNotFound(RetouchError):
    status_code = 404
    error_type = "invalid_request_error"
    default_code = "job_not_found"


class FileNotFound(RetouchError):
    """No such file for this account (another account's file is indistinguishable from a missing one)."""

    status_code = 404
    error_type = "invalid_request_error"
    default_code = "file_not_found"


class JobNotCancelable(RetouchError):
    """Only a queued job can be canceled: a running one's provider call is already paid for; an ended one is over."""

    status_code = 409
    error_type = "invalid_request_error"
    default_code = "job_not_cancelable"


class JobNotDeletable(RetouchError):
    """A job is deleted once it has ended: cancel it while it is queued, else wait for it to end."""

    status_code = 409
    error_type = "invalid_request_error"
    default_code = "job_not_deletable"


class OutputsExpired(RetouchError):
    status_code = 410
    error_type = "invalid_request_error"
    default_code = "outputs_expired"


class PayloadTooLarge(RetouchError):
    status_code = 413
    error_type = "invalid_request_error"
    default_code = "payload_too_large"


class UnsupportedMediaType(RetouchError):
    status_code = 415
    error_type = "invalid_request_error"
    default_code = "unsupported_media_type"


class InsufficientCredits(RetouchError):
    """The job's price is more than the account's available balance."""

    status_code = 402
    error_type = "insufficient_quota"
    default_code = "insufficient_credits"


class _TooManyRequests(RetouchError):
    status_code = 429
    error_type = "rate_limit_error"

    def __init__(self, message: str, *, retry_after_seconds: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after_seconds = retry_after_seconds
        self.headers["Retry-After"] = str(retry_after_seconds)


class RateLimited(_TooManyRequests):
    """More requests this minute than the account's requests-per-minute limit."""

    default_code = "rate_limit_exceeded"


class ConcurrencyLimited(_TooManyRequests):
    """As many jobs queued or running as the account's in-flight limit."""

    default_code = "concurrency_limit_exceeded"


class HoldsLimited(_TooManyRequests):
    """As many requests held open on the synchronous entry as the account may hold at once (SyncHoldsPerAccount)."""

    default_code = "sync_hold_limit_exceeded"


class AccountBusy(RetouchError):
    """The account's balance kept changing under every attempt to hold or settle (extreme contention)."""

    status_code = 503
    error_type = "server_error"
    default_code = "account_busy"


class JobConflict(RetouchError):
    """The job could not be written because its id is taken (never expected: ids are random); nothing was held."""

    status_code = 409
    error_type = "invalid_request_error"
    default_code = "job_conflict"


class QueueUnavailable(RetouchError):
    status_code = 503
    error_type = "server_error"
    default_code = "queue_unavailable"


# ---- payments (retouch/payments/) ------------------------------------------------------------------------------

class AccountInArrears(InsufficientCredits):
    """A refund or dispute took back credit already spent: the balance is below zero, so new submits are refused
    until a top-up brings it back to zero or more (jobs in flight finish)."""

    default_code = "account_in_arrears"


class TopUpAmountInvalid(InvalidRequest):
    """A top-up outside the operator's minimum and maximum."""

    default_code = "invalid_amount"


class PaymentsNotEnabled(RetouchError):
    """No Stripe keys are configured in this deployment's Stripe secret."""

    status_code = 503
    error_type = "server_error"
    default_code = "payments_not_enabled"


class PaymentProviderError(RetouchError):
    """Stripe refused or failed the request (a retry may succeed)."""

    status_code = 502
    error_type = "server_error"
    default_code = "payment_provider_error"


class WebhookSignatureInvalid(InvalidRequest):
    """A Stripe webhook whose `Stripe-Signature` does not verify (forged, altered or older than the tolerance)."""

    default_code = "invalid_signature"


class PaymentNotRecorded(RetouchError):
    """A refund or dispute of a payment not credited yet (its events arrived out of order): answered 409 so Stripe
    delivers it again later, by when the credit has landed."""

    status_code = 409
    error_type = "invalid_request_error"
    default_code = "payment_not_recorded"


class CodedError(Exception):
    """A failure with a stable machine-readable `code` and a human `message` (never an HTTP response as is)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class JobFailure(CodedError):
    """Ends a job `failed` with a stable code (worker side)."""


# ---- end users (issue 18) -------------------------------------------------------------------------------------------


class EndUserLimitExceeded(_TooManyRequests):
    """One of the end user's limits (`param` names it: requests_per_minute, images_per_day, usd_per_day,
    usd_per_month) would be exceeded; Retry-After is when its window starts again. Other end users are unaffected."""

    default_code = "end_user_limit_exceeded"

    def __init__(self, message: str, *, limit: str, retry_after_seconds: int) -> None:
        super().__init__(message, retry_after_seconds=retry_after_seconds)
        self.param = limit


class SpendCapExceeded(_TooManyRequests):
    """The device token's spend cap would be exceeded."""

    default_code = "client_token_spend_cap_exceeded"


class ClientTokenForbidden(RetouchError):
    """A device token asked for a route outside its scopes (or one only the account's own key may use)."""

    status_code = 403
    error_type = "permission_error"
    default_code = "client_token_forbidden"


class ConsoleSessionRequired(RetouchError):
    """A console-only route (API keys, webhook secrets, sign-in members) called with an API key or a device token:
    these need a person signed in to the console."""

    status_code = 403
    error_type = "permission_error"
    default_code = "console_session_required"


class OperatorOnly(RetouchError):
    """An operator route called by a console user who is not one of the deployment's operators."""

    status_code = 403
    error_type = "permission_error"
    default_code = "operator_only"


class EndUserMismatch(RetouchError):
    """The request names another end user than its device token is bound to (or than its X-End-User header)."""

    status_code = 403
    error_type = "permission_error"
    default_code = "end_user_mismatch"


class ErasureNotFound(RetouchError):
    status_code = 404
    error_type = "invalid_request_error"
    default_code = "erasure_not_found"


class ClientTokenNotFound(RetouchError):
    status_code = 404
    error_type = "invalid_request_error"
    default_code = "client_token_not_found"


class CallbackNotAuthentic(RetouchError):
    """An upstream callback whose signature (or the like) does not hold: it moves nothing. 403, not 401: no key
    would make it acceptable."""

    status_code = 403
    error_type = "invalid_request_error"
    default_code = "callback_not_authentic"


class UnknownCallback(RetouchError):
    """A callback for an upstream that does not call back."""

    status_code = 404
    error_type = "invalid_request_error"
    default_code = "callback_not_supported"


# ---- the console's own routes (issue #21: keys, webhook settings, the operator's views) ---------------------------


class KeyNotFound(RetouchError):
    """No such API key on the caller's account (another account's key is indistinguishable from a missing one)."""

    status_code = 404
    error_type = "invalid_request_error"
    default_code = "key_not_found"


class KeyLimitReached(RetouchError):
    """The account has as many active keys as one account may hold: revoke one first."""

    status_code = 409
    error_type = "invalid_request_error"
    default_code = "key_limit_reached"


class AccountNotFound(RetouchError):
    """An operator route named an account that does not exist."""

    status_code = 404
    error_type = "invalid_request_error"
    default_code = "account_not_found"


class BalanceWouldGoNegative(RetouchError):
    """An operator's negative adjustment larger than the account's available balance."""

    status_code = 409
    error_type = "invalid_request_error"
    default_code = "balance_would_go_negative"


# ---- issue 21: console sign-up, sign-in and sessions ---------------------------------------------------------------


class NotSignedIn(RetouchError):
    """A console request without a live session (none, unknown, signed out or expired)."""

    status_code = 401
    error_type = "invalid_request_error"
    default_code = "not_signed_in"


class CsrfFailed(RetouchError):
    """An unsafe console request without the session's X-CSRF-Token, or from another origin."""

    status_code = 403
    error_type = "permission_error"
    default_code = "csrf_failed"


class InvalidPassword(InvalidRequest):
    """The password does not meet the user pool's policy."""

    default_code = "invalid_password"


class EmailTaken(RetouchError):
    status_code = 409
    error_type = "invalid_request_error"
    default_code = "email_taken"


class InvalidCode(InvalidRequest):
    """A wrong, expired or already used e-mail verification code."""

    default_code = "invalid_code"


class InvalidCredentials(RetouchError):
    """Unknown e-mail or wrong password (one answer for both, so sign-in does not reveal who has an account)."""

    status_code = 401
    error_type = "invalid_request_error"
    default_code = "invalid_credentials"


class EmailNotVerified(RetouchError):
    status_code = 403
    error_type = "permission_error"
    default_code = "email_not_verified"


class AuthRateLimited(_TooManyRequests):
    """Too many sign-up, verification or sign-in attempts from one address or for one e-mail this minute."""

    default_code = "auth_rate_limit_exceeded"


class MemberNotFound(RetouchError):
    status_code = 404
    error_type = "invalid_request_error"
    default_code = "member_not_found"


class MemberConflict(RetouchError):
    """An invitation or removal the account's people forbid: inviting someone already in an account, removing the
    account's owner, or a member (not the owner) managing people."""

    status_code = 409
    error_type = "invalid_request_error"
    default_code = "member_conflict"
