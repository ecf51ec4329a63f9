"""The metrics' names, namespace and dimensions: the one list the emitting code and template.yaml's alarms and
dashboard agree on (tests/unit/template checks that every custom metric the template reads is named here).

Every metric carries Powertools' `service` dimension (POWERTOOLS_SERVICE_NAME); alarms read that aggregate. A metric
with an extra dimension (ERROR_CODE, UPSTREAM) is emitted on its own (Powertools' single_metric) besides the aggregate.
"""

from __future__ import annotations

# The template's MetricsNamespace parameter default; functions read it from POWERTOOLS_METRICS_NAMESPACE.
DEFAULT_NAMESPACE = "Retouch"
SERVICE = "retouch"

# Extra dimensions
ERROR_CODE = "error_code"
UPSTREAM = "upstream"

# Jobs (counts)
JOBS_SUBMITTED = "JobsSubmitted"
JOBS_STARTED = "JobsStarted"
JOBS_SUCCEEDED = "JobsSucceeded"
JOBS_FAILED = "JobsFailed"  # every failure; also emitted with ERROR_CODE (the alarm reads provider_auth_failed)
JOBS_CANCELED = "JobsCanceled"
QUEUE_WAIT = "QueueWait"  # milliseconds from enqueue to claim

# Provider calls (one per attempt; also emitted with UPSTREAM)
PROVIDER_CALLS = "ProviderCalls"
PROVIDER_FAILURES = "ProviderFailures"  # 429, 5xx, timeouts and auth refusals
PROVIDER_LATENCY = "ProviderLatency"  # milliseconds
PROVIDER_ATTEMPTS = "ProviderAttempts"  # attempts a job took, emitted when it ends

# Money and refusals
COST_CHARGED = "CostChargedMicros"  # micro-dollars charged to accounts
CREDIT_REFUSALS = "CreditRefusals"
RATE_LIMITED = "RateLimited"

# Webhooks
WEBHOOK_DELIVERIES = "WebhookDeliveries"
WEBHOOK_FAILURES = "WebhookDeliveryFailures"

# Payments (payments/): micro-dollars credited and taken back, and reversals that left a balance below zero (alarmed)
PAYMENTS_CREDITED = "PaymentsCreditedMicros"
PAYMENTS_REVERSED = "PaymentsReversedMicros"
ACCOUNTS_IN_ARREARS = "AccountsInArrears"
STRIPE_SIGNATURES_REFUSED = "StripeSignaturesRefused"
AUTO_RECHARGES_DISABLED = "AutoRechargesDisabled"  # a failed charge or the monthly cap turned one off

# The error code whose every occurrence raises an alarm (a placeholder or refused provider key).
PROVIDER_AUTH_FAILED = "provider_auth_failed"

ALL_METRICS = frozenset({
    JOBS_SUBMITTED, JOBS_STARTED, JOBS_SUCCEEDED, JOBS_FAILED, JOBS_CANCELED, QUEUE_WAIT, PROVIDER_CALLS,
    PROVIDER_FAILURES, PROVIDER_LATENCY, PROVIDER_ATTEMPTS, COST_CHARGED, CREDIT_REFUSALS, RATE_LIMITED,
    WEBHOOK_DELIVERIES, WEBHOOK_FAILURES,
    PAYMENTS_CREDITED, PAYMENTS_REVERSED, ACCOUNTS_IN_ARREARS, STRIPE_SIGNATURES_REFUSED,
    AUTO_RECHARGES_DISABLED,
})
