"""local.api_gateway.http_events: API Gateway HTTP API payload format 2.0, both directions."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from local.api_gateway.http_events import (
    HttpRequest,
    RequestMeta,
    build_authorizer_event,
    build_http_event,
    build_http_response,
)
from local.api_gateway.routes import RouteMatch
from local.cloudformation.template import HttpRouteSpec

META = RequestMeta(request_id="req-1", time=datetime(2026, 3, 12, 19, 3, 58, 123000, tzinfo=UTC))
EDITS = RouteMatch(HttpRouteSpec("ApiFunction", "CreateEdit", "POST", "/v1/images/edits", "ApiKeyAuthorizer"), {})
JOB = RouteMatch(HttpRouteSpec("StatusFunction", "GetJob", "GET", "/v1/jobs/{job_id}", "ApiKeyAuthorizer"),
                 {"job_id": "job_1"})


def request(method="POST", path="/v1/images/edits", query="", headers=(), body=b"") -> HttpRequest:
    return HttpRequest(method=method, raw_path=path, raw_query=query, headers=list(headers), body=body,
                       source_ip="127.0.0.9")


def test_event_has_the_v2_shape_with_request_context():
    # Given a GET with a query string, repeated headers and cookies
    req = request("GET", "/v1/jobs/job_1", "a=1&b=x&a=2",
                  [("Host", "127.0.0.1:3000"), ("User-Agent", "curl/8"), ("X-Tag", "one"), ("x-tag", "two"),
                   ("Cookie", "s=1; t=2")])
    # When the event is built
    event = build_http_event(req, JOB, META)
    # Then it carries what API Gateway sends
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /v1/jobs/{job_id}"
    assert (event["rawPath"], event["rawQueryString"]) == ("/v1/jobs/job_1", "a=1&b=x&a=2")
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x"}
    assert event["pathParameters"] == {"job_id": "job_1"}
    assert event["cookies"] == ["s=1", "t=2"]
    assert event["headers"] == {"host": "127.0.0.1:3000", "user-agent": "curl/8", "x-tag": "one,two"}
    assert event["isBase64Encoded"] is False and "body" not in event
    assert event["requestContext"] == {
        "accountId": "123456789012",
        "apiId": "local",
        "domainName": "127.0.0.1:3000",
        "domainPrefix": "127",
        "http": {"method": "GET", "path": "/v1/jobs/job_1", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.9",
                 "userAgent": "curl/8"},
        "requestId": "req-1",
        "routeKey": "GET /v1/jobs/{job_id}",
        "stage": "$default",
        "time": "12/Mar/2026:19:03:58 +0000",
        "timeEpoch": 1773342238123,
    }


def test_optional_keys_are_left_out_when_empty():
    event = build_http_event(request(), EDITS, META)
    assert not {"queryStringParameters", "pathParameters", "cookies", "body"} & set(event)


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", "text/plain",
                                          "application/problem+json"])
def test_text_bodies_pass_as_text(content_type):
    event = build_http_event(request(headers=[("Content-Type", content_type)], body=b'{"n": 1}'), EDITS, META)
    assert (event["body"], event["isBase64Encoded"]) == ('{"n": 1}', False)


@pytest.mark.parametrize("content_type", [None, "multipart/form-data; boundary=x", "image/png",
                                          "application/octet-stream"])
def test_other_bodies_arrive_base64_encoded(content_type):
    headers = [("Content-Type", content_type)] if content_type else []
    body = b"\x89PNG\r\n\x00\xff"
    event = build_http_event(request(headers=headers, body=body), EDITS, META)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body


def test_authorizer_context_goes_under_request_context_lambda():
    event = build_http_event(request(), EDITS, META, authorizer_context={"account_id": "acct_1"})
    assert event["requestContext"]["authorizer"] == {"lambda": {"account_id": "acct_1"}}


def test_authorizer_event_is_a_v2_request_event_without_the_body():
    req = request(headers=[("Authorization", "Bearer k"), ("Content-Type", "application/json")], body=b"{}",
                  query="x=1")
    event = build_authorizer_event(req, EDITS, META, ["Bearer k"])
    assert event["version"] == "2.0" and event["type"] == "REQUEST"
    assert event["routeArn"] == "arn:aws:execute-api:us-east-1:123456789012:local/$default/POST/v1/images/edits"
    assert event["identitySource"] == ["Bearer k"]
    assert event["routeKey"] == "POST /v1/images/edits"
    assert event["headers"]["authorization"] == "Bearer k"
    assert event["queryStringParameters"] == {"x": "1"}
    assert event["requestContext"]["requestId"] == "req-1"
    assert "body" not in event


def test_a_full_response_maps_status_headers_cookies_and_body():
    response = build_http_response({
        "statusCode": 202,
        "headers": {"Content-Type": "application/json", "Location": "/v1/jobs/j"},
        "multiValueHeaders": {"X-Many": ["a", "b"]},
        "cookies": ["c=1; Path=/"],
        "body": '{"id": "j"}',
    }, "req-1")
    assert response.status == 202
    assert response.body == b'{"id": "j"}'
    assert ("content-type", "application/json") in response.headers
    assert ("location", "/v1/jobs/j") in response.headers
    assert [v for k, v in response.headers if k == "x-many"] == ["a", "b"]
    assert ("set-cookie", "c=1; Path=/") in response.headers
    assert ("apigw-requestid", "req-1") in response.headers


def test_a_base64_response_body_is_decoded():
    png = b"\x89PNG\x00\x01"
    response = build_http_response({"statusCode": 200, "body": base64.b64encode(png).decode(),
                                    "isBase64Encoded": True}, "r")
    assert response.body == png


@pytest.mark.parametrize("result", [{"ok": True}, [1, 2], "plain text", None])
def test_a_result_without_status_code_is_a_200_json_response(result):
    response = build_http_response(result, "r")
    assert response.status == 200
    assert ("content-type", "application/json") in response.headers
    expected = result if isinstance(result, str) else json.dumps(result)
    assert response.body == expected.encode()
