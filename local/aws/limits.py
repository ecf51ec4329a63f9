"""AWS's hard limits that the local runtime enforces, in one place, each with the quota it comes from.

The local stack refuses what AWS refuses, the way AWS answers, so a behaviour that passes locally cannot fail
only once deployed. Function timeouts come from each function's `Timeout` in template.yaml.
"""

from __future__ import annotations

MB = 1024 * 1024

# API Gateway HTTP API quotas ("Quotas for configuring and running an HTTP API", API Gateway developer guide):
# "Payload size: 10 MB", not adjustable. Larger requests get 413 {"message":"Request Entity Too Large"}.
HTTP_API_MAX_BODY_BYTES = 10 * MB
# Same page: "Maximum integration timeout: 30 seconds". API Gateway then answers 503 {"message":"Service
# Unavailable"} while the function goes on running until its own Timeout.
HTTP_API_INTEGRATION_TIMEOUT_SECONDS = 30.0

# Lambda quotas ("Lambda quotas", Lambda developer guide): "Invocation payload (request and response): 6 MB each
# for request and response (synchronous)". The event carries a binary body base64-encoded, so about 4.5 MB of
# upload fills it. A larger event is refused before the function runs (API Gateway then answers 413); a larger
# result fails the invocation (Function.ResponseSizeTooLarge; API Gateway answers 500).
LAMBDA_SYNC_PAYLOAD_BYTES = 6 * MB
# The result's limit as Lambda reports it ("Response payload size exceeded maximum allowed payload size
# (6291556 bytes)"): 100 bytes over 6 MiB.
LAMBDA_SYNC_RESPONSE_BYTES = 6 * MB + 100

# Lambda response streaming ("Response streaming for Lambda functions", Lambda developer guide): "response streaming
# functions can return payloads up to 200 MB"; past it the stream ends (Function.ResponseSizeTooLarge) and the client
# has a cut-short body. "The streaming rate for the first 6 MB of your function's response is uncapped ... Lambda
# streams the rest of your response at a maximum rate of 2 MBps."
LAMBDA_STREAMED_RESPONSE_BYTES = 200 * MB
LAMBDA_STREAM_UNCAPPED_BYTES = 6 * MB
LAMBDA_STREAM_CAPPED_BYTES_PER_SECOND = 2 * MB
