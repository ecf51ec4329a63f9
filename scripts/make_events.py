"""Regenerate events/*.json: real-shaped API Gateway HTTP API (payload 2.0), authorizer, SQS and schedule events.

Run: .venv/bin/python -m scripts.make_events
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

from PIL import Image

EVENTS = Path(__file__).resolve().parent.parent / "events"
API_ID = "a1b2c3d4e5"
ACCOUNT = "123456789012"
BOUNDARY = "retouch-sample-boundary"


def png(size: tuple[int, int], color: tuple[int, ...], mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def multipart(fields: list[tuple[str, str | tuple[str, str, bytes]]]) -> bytes:
    out = io.BytesIO()
    for name, value in fields:
        out.write(f"--{BOUNDARY}\r\n".encode())
        if isinstance(value, tuple):
            filename, content_type, data = value
            out.write(f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'.encode())
            out.write(f"Content-Type: {content_type}\r\n\r\n".encode())
            out.write(data)
        else:
            out.write(f'Content-Disposition: form-data; name="{name}"\r\n\r\n{value}'.encode())
        out.write(b"\r\n")
    out.write(f"--{BOUNDARY}--\r\n".encode())
    return out.getvalue()


def http_event(method: str, path: str, route: str, *, headers: dict[str, str], body: bytes | None = None,
               binary: bool = False, path_parameters: dict[str, str] | None = None,
               authorized: bool = True) -> dict:
    event = {
        "version": "2.0",
        "routeKey": f"{method} {route}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"accept": "*/*", "host": f"{API_ID}.execute-api.us-east-1.amazonaws.com",
                    "user-agent": "OpenAI/Python 1.0", "x-forwarded-proto": "https", **headers},
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": API_ID,
            "domainName": f"{API_ID}.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": API_ID,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.10",
                     "userAgent": "OpenAI/Python 1.0"},
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": f"{method} {route}",
            "stage": "$default",
            "time": "22/Nov/2026:02:00:00 +0000",
            "timeEpoch": 1795399200000,
        },
        "isBase64Encoded": binary,
    }
    if authorized:
        event["requestContext"]["authorizer"] = {"lambda": {"account_id": "acct_sample000000000000",
                                                            "key_id": "key_sample0000000000"}}
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body is not None:
        event["body"] = base64.b64encode(body).decode() if binary else body.decode()
    return event


def write(name: str, event: dict) -> None:
    (EVENTS / name).write_text(json.dumps(event, indent=2) + "\n")


def write_billing_events() -> None:
    """GET /v1/account, /v1/usage?start=&end= and /v1/usage/ledger?limit= (status function)."""
    key = {"authorization": "Bearer rt_live_sample"}
    write("get_account.json", http_event("GET", "/v1/account", "/v1/account", headers=key))
    usage = http_event("GET", "/v1/usage", "/v1/usage", headers=key)
    usage.update(rawQueryString="start=2026-11-01&end=2026-11-22",
                 queryStringParameters={"start": "2026-11-01", "end": "2026-11-22"})
    write("get_usage.json", usage)
    ledger = http_event("GET", "/v1/usage/ledger", "/v1/usage/ledger", headers=key)
    ledger.update(rawQueryString="limit=20", queryStringParameters={"limit": "20"})
    write("get_ledger.json", ledger)


SAMPLE_FILES = ("file_SAMPLE000000000000000000", "file_SAMPLE111111111111111111", "file_SAMPLE222222222222222222")


def write_file_events() -> None:
    """POST /v1/uploads, GET /v1/files, GET and DELETE /v1/files/{file_id} (api function), and a JSON edit naming
    uploaded files."""
    key = {"authorization": "Bearer rt_live_sample"}
    json_key = {**key, "content-type": "application/json"}
    upload = json.dumps({"filename": "photo.jpg", "bytes": 20971520, "mime_type": "image/jpeg",
                         "purpose": "vision"}).encode()
    write("create_upload.json", http_event("POST", "/v1/uploads", "/v1/uploads", body=upload, headers=json_key))
    listing = http_event("GET", "/v1/files", "/v1/files", headers=key)
    listing.update(rawQueryString="limit=20", queryStringParameters={"limit": "20"})
    write("list_files.json", listing)
    for name, method in (("get_file.json", "GET"), ("delete_file.json", "DELETE")):
        write(name, http_event(method, f"/v1/files/{SAMPLE_FILES[0]}", "/v1/files/{file_id}", headers=key,
                               path_parameters={"file_id": SAMPLE_FILES[0]}))
    edit = json.dumps({"model": "gpt-image-2", "prompt": "put the hat on the person", "size": "1024x1536",
                       "images": [{"file_id": SAMPLE_FILES[0]}, {"file_id": SAMPLE_FILES[1]}],
                       "mask": {"file_id": SAMPLE_FILES[2]}}).encode()
    write("edit_json_files.json", http_event("POST", "/v1/images/edits", "/v1/images/edits", body=edit,
                                             headers=json_key))


def write_job_events() -> None:
    """GET /v1/jobs?limit=&status= (status function); POST /v1/jobs/{job_id}/cancel with an Idempotency-Key and
    DELETE /v1/jobs/{job_id} (api function)."""
    key = {"authorization": "Bearer rt_live_sample"}
    listing = http_event("GET", "/v1/jobs", "/v1/jobs", headers=key)
    listing.update(rawQueryString="limit=20&status=succeeded",
                   queryStringParameters={"limit": "20", "status": "succeeded"})
    write("list_jobs.json", listing)
    job = "job_SAMPLE00000000000000000"
    write("delete_job.json", http_event("DELETE", f"/v1/jobs/{job}", "/v1/jobs/{job_id}", headers=key,
                                        path_parameters={"job_id": job}))
    write("cancel_job.json", http_event("POST", f"/v1/jobs/{job}/cancel", "/v1/jobs/{job_id}/cancel",
                                        headers={**key, "idempotency-key": "cancel-7f3a"},
                                        path_parameters={"job_id": job}))
    # GET /v1/jobs/{job_id}/events (status function), resumed after the event with id 1
    write("get_job_events.json", http_event("GET", f"/v1/jobs/{job}/events", "/v1/jobs/{job_id}/events",
                                            headers={**key, "accept": "text/event-stream", "last-event-id": "1"},
                                            path_parameters={"job_id": job}))


def main() -> None:
    EVENTS.mkdir(exist_ok=True)
    photo, hat = png((96, 64), (200, 120, 80)), png((32, 32), (20, 20, 160))
    mask = png((96, 64), (0, 0, 0, 0), mode="RGBA")
    body = multipart([
        ("image[]", ("photo.png", "image/png", photo)),
        ("image[]", ("hat.png", "image/png", hat)),
        ("mask", ("mask.png", "image/png", mask)),
        ("prompt", "put the hat on the person"),
        ("model", "gpt-image-2"),
        ("size", "1024x1536"),
        ("n", "1"),
    ])
    write("edit_multipart.json", http_event(
        "POST", "/v1/images/edits", "/v1/images/edits", binary=True, body=body,
        headers={"authorization": "Bearer rt_live_sample", "content-type": f"multipart/form-data; boundary={BOUNDARY}",
                 "content-length": str(len(body))}))
    edit_json = json.dumps({
        "model": "gpt-image-2", "prompt": "make it dusk",
        "images": [{"image_url": "data:image/png;base64," + base64.b64encode(photo).decode()},
                   {"image_url": "https://images.example.com/hat.png"}],
        "metadata": {"order": "A-1001"},
    }).encode()
    write("edit_json.json", http_event("POST", "/v1/images/edits", "/v1/images/edits", body=edit_json,
                                       headers={"authorization": "Bearer rt_live_sample",
                                                "content-type": "application/json"}))
    generation = json.dumps({"model": "gpt-image-2", "prompt": "a lighthouse at dawn", "size": "1536x1024",
                             "quality": "low"}).encode()
    write("generation.json", http_event("POST", "/v1/images/generations", "/v1/images/generations", body=generation,
                                        headers={"authorization": "Bearer rt_live_sample",
                                                 "content-type": "application/json", "prefer": "wait=0"}))
    write("get_job.json", http_event("GET", "/v1/jobs/job_SAMPLE00000000000000000", "/v1/jobs/{job_id}",
                                     headers={"authorization": "Bearer rt_live_sample"},
                                     path_parameters={"job_id": "job_SAMPLE00000000000000000"}))
    write("list_models.json", http_event("GET", "/v1/models", "/v1/models",
                                         headers={"authorization": "Bearer rt_live_sample"}))
    write("health.json", http_event("GET", "/health", "/health", headers={}, authorized=False))
    write_billing_events()
    write_file_events()
    write_job_events()
    authorizer = http_event("POST", "/v1/images/generations", "/v1/images/generations",
                            headers={"authorization": "Bearer rt_live_sample"}, authorized=False)
    authorizer.update(type="REQUEST", identitySource=["Bearer rt_live_sample"],
                      routeArn=f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{API_ID}/$default/POST/v1/images/generations")
    authorizer.pop("isBase64Encoded")
    write("authorizer_request.json", authorizer)
    sqs_record = {
        "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
        "body": json.dumps({"job_id": "job_SAMPLE00000000000000000"}),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795399200000",
                       "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1795399200100"},
        "messageAttributes": {},
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:us-east-1:{ACCOUNT}:retouch-JobsQueue",
        "awsRegion": "us-east-1",
    }
    write("sqs_job.json", {"Records": [sqs_record]})
    # A batch as the jobs event source hands it over (WorkerBatchSize): its records run at once.
    second = dict(sqs_record, messageId="2e1d9f4c-5b8a-4f7e-9c3d-1a2b3c4d5e6f", receiptHandle="AQEBz8Xy1MnBv2TqPa",
                  body=json.dumps({"job_id": "job_SAMPLE00000000000000001"}),
                  md5OfBody="5d41402abc4b2a76b9719d911017c592")
    write("sqs_jobs_batch.json", {"Records": [sqs_record, second]})
    dead = dict(sqs_record, eventSourceARN=f"arn:aws:sqs:us-east-1:{ACCOUNT}:retouch-JobsDeadLetterQueue",
                attributes=dict(sqs_record["attributes"], ApproximateReceiveCount="6"))
    write("sqs_dead_letter.json", {"Records": [dead]})
    write("scheduled_sweep.json", {
        "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
        "source": "aws.events", "account": ACCOUNT, "time": "2026-11-30T12:00:00Z", "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:{ACCOUNT}:rule/retouch-SweeperFunctionSweep"], "detail": {},
    })
    mcp_events()


# ---- issue 22: the mcp function's Function URL ------------------------------------------------------------------


def mcp_events() -> None:
    """A Function URL request (payload 2.0) carrying an MCP `tools/list` on the 2026-07-28 wire, whose request
    `_meta` declares the tasks extension, as the official MCP client sends it."""
    domain = "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws"
    meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": {"name": "sample", "version": "1"},
            "io.modelcontextprotocol/clientCapabilities": {"extensions": {"io.modelcontextprotocol/tasks": {}}}}
    write("mcp_tools_list.json", {
        "version": "2.0", "routeKey": "$default", "rawPath": "/mcp", "rawQueryString": "",
        "headers": {"accept": "application/json, text/event-stream", "content-type": "application/json",
                    "host": domain, "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/list",
                    "user-agent": "python-httpx/0.28.1", "x-forwarded-proto": "https",
                    "authorization": "Bearer rt_live_sample"},
        "requestContext": {
            "accountId": "anonymous", "apiId": domain.split(".")[0], "domainName": domain,
            "domainPrefix": domain.split(".")[0],
            "http": {"method": "POST", "path": "/mcp", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.10",
                     "userAgent": "python-httpx/0.28.1"},
            "requestId": "5f0c9a4e-7d1b-4c52-9a63-1e2d3c4b5a69", "routeKey": "$default", "stage": "$default",
            "time": "22/Nov/2026:02:00:00 +0000", "timeEpoch": 1795399200000,
        },
        "body": json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": meta}}),
        "isBase64Encoded": False,
    })


# ---- issue 21: the console's backend (ConsoleFunction behind `ANY /console/api/{proxy+}`, no authorizer) ------------

CONSOLE_HOST = "d111111abcdef8.cloudfront.net"  # the console's origin: CloudFront in front of the HTTP API
CONSOLE_COOKIE = "__Host-retouch_session=sample-session-secret"
CONSOLE_CSRF = "sample-csrf-token-sample-csrf-token-00"


def console_event(method: str, proxy: str, body: dict | None = None, *, signed_in: bool = False) -> dict:
    """A browser's request to the console's API: its cookie (signed in), and for an unsafe one its Origin and JSON
    (and the session's X-CSRF-Token when signed in)."""
    headers = {"accept": "application/json", "host": CONSOLE_HOST, "user-agent": "Mozilla/5.0",
               "x-forwarded-proto": "https"}
    if method != "GET":
        headers.update({"origin": f"https://{CONSOLE_HOST}", "content-type": "application/json"})
        if signed_in:
            headers["x-csrf-token"] = CONSOLE_CSRF
    path = f"/console/api/{proxy}"
    event = http_event(method, path, "/console/api/{proxy+}", headers={}, authorized=False,
                       path_parameters={"proxy": proxy}, body=json.dumps(body).encode() if body is not None else None)
    event["routeKey"] = event["requestContext"]["routeKey"] = "ANY /console/api/{proxy+}"
    event["headers"] = headers
    event["requestContext"]["http"]["userAgent"] = "Mozilla/5.0"
    if signed_in:
        event["cookies"] = [CONSOLE_COOKIE]
    return event


def write_console_events() -> None:
    """Sign-up, verification, sign-in and sign-out, the session, a mounted public route and an invitation; a key
    created and a credit adjustment."""
    person = {"email": "ada@example.com", "password": "Correct-Horse-42"}
    write("console_sign_up.json", console_event("POST", "auth/sign_up", {**person, "account_name": "Ada's studio"}))
    write("console_verify.json", console_event("POST", "auth/verify", {**person, "code": "123456"}))
    write("console_sign_in.json", console_event("POST", "auth/sign_in", person))
    write("console_sign_out.json", console_event("POST", "auth/sign_out", signed_in=True))
    write("console_get_session.json", console_event("GET", "session", signed_in=True))
    write("console_list_jobs.json", console_event("GET", "v1/jobs", signed_in=True))
    write("console_invite_member.json", console_event("POST", "members", {"email": "grace@example.com"},
                                                      signed_in=True))
    # The console's own routes (C2): a key created (its secret shown once), an operator's credit adjustment.
    write("console_create_key.json", console_event("POST", "keys", {"name": "production"}, signed_in=True))
    adjustment = console_event("POST", "operator/accounts/acct_sample000000000000/credit",
                               {"amount_usd": "25.00", "reason": "goodwill for incident 12"}, signed_in=True)
    adjustment["headers"]["idempotency-key"] = "adjust-sample-0001"
    write("console_adjust_credit.json", adjustment)


if __name__ == "__main__":
    main()
    write_console_events()
