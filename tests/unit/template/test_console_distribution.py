"""The console's AWS serving (issue 21): a private, encrypted, TLS-only assets bucket read by CloudFront alone, the
HTTP API behind the same distribution for the API paths (uncached, every viewer header but Host), and the same
security headers CloudFront sends as the local gateway does."""

from __future__ import annotations

from typing import Any

from local.api_gateway.console_site import security_headers
from local.cloudformation.template import load_yaml
from tooling.functions import TEMPLATE

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
API_PATHS = {"/console/api/*", "/v1/*", "/health", "/docs*", "/openapi.json"}


def _resources() -> dict[str, Any]:
    resources: dict[str, Any] = load_yaml(TEMPLATE.read_text())["Resources"]
    return resources


def test_the_assets_bucket_is_private_encrypted_and_read_only_by_the_distribution_over_tls():
    resources = _resources()
    bucket = resources["ConsoleAssetsBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    policy = resources["ConsoleAssetsBucketPolicy"]["Properties"]["PolicyDocument"]
    statements = {statement["Sid"]: statement for statement in policy["Statement"]}
    assert statements["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    reads = statements["AllowConsoleDistributionReads"]
    assert reads["Principal"] == {"Service": "cloudfront.amazonaws.com"} and reads["Action"] == "s3:GetObject"
    assert "ConsoleDistribution" in reads["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]


def test_the_distribution_serves_the_files_from_s3_and_the_api_paths_from_the_http_api_uncached():
    config = _resources()["ConsoleDistribution"]["Properties"]["DistributionConfig"]
    origins = {origin["Id"]: origin for origin in config["Origins"]}
    assert "OriginAccessControlId" in origins["console-assets"]
    assert origins["http-api"]["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    default = config["DefaultCacheBehavior"]
    assert default["TargetOriginId"] == "console-assets" and default["AllowedMethods"] == ["GET", "HEAD"]
    assert default["FunctionAssociations"][0]["EventType"] == "viewer-request"
    api = {behaviour["PathPattern"]: behaviour for behaviour in config["CacheBehaviors"]}
    assert set(api) == API_PATHS
    for behaviour in api.values():
        assert behaviour["TargetOriginId"] == "http-api"
        assert behaviour["CachePolicyId"] == CACHING_DISABLED
        assert behaviour["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST
    assert "POST" in api["/console/api/*"]["AllowedMethods"] and "DELETE" in api["/v1/*"]["AllowedMethods"]


def test_cloudfront_sends_the_security_headers_the_local_gateway_sends():
    # Given the response headers policy and the local site's headers for the same bucket
    policy = _resources()["ConsoleSecurityHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]
    config = policy["SecurityHeadersConfig"]
    bucket_origin = "https://${Bucket}.s3.${AWS::Region}.${AWS::URLSuffix}"
    local = dict(security_headers(bucket_origin))
    # Then they agree header by header
    assert config["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"] == local["content-security-policy"]
    assert config["FrameOptions"]["FrameOption"] == local["x-frame-options"]
    assert local["x-content-type-options"] == "nosniff" and config["ContentTypeOptions"]["Override"] is True
    assert config["ReferrerPolicy"]["ReferrerPolicy"] == local["referrer-policy"]
    hsts = config["StrictTransportSecurity"]
    assert local["strict-transport-security"] == f"max-age={hsts['AccessControlMaxAgeSec']}; includeSubDomains"


def test_the_data_bucket_answers_browser_uploads_with_cors():
    rules = _resources()["Bucket"]["Properties"]["CorsConfiguration"]["CorsRules"]
    assert rules == [{"AllowedMethods": ["POST"], "AllowedOrigins": ["*"], "AllowedHeaders": ["*"], "MaxAge": 3600}]
