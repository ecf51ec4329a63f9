"""An in-memory Retouch HTTP API for the MCP server's tests (served through httpx.MockTransport): jobs that run on
each read, uploads, cancel of queued jobs, the account; it records what was submitted so a test can say "no job was
made"."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.builders import png

BASE = "http://retouch.test"
OUTPUTS = "http://storage.test/outputs"


@dataclass
class FakeRetouchApi:
    """`reads_to_finish`: how many GETs of a job it takes to succeed (None: it never starts, stays queued)."""

    reads_to_finish: int | None = 2
    images_per_job: int = 1
    balance_micros: int = 100_000_000
    refuse_submit: tuple[int, dict[str, Any]] | None = None
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    reads: dict[str, int] = field(default_factory=dict)
    submitted: list[dict[str, Any]] = field(default_factory=list)
    keys_seen: set[str] = field(default_factory=set)
    uploads: dict[str, bytes] = field(default_factory=dict)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if url.startswith(OUTPUTS):
            return httpx.Response(200, content=png(64, 48))
        if url.startswith("http://storage.test/uploads"):
            self.uploads[url] = request.content
            return httpx.Response(204)
        self.keys_seen.add(request.headers.get("authorization", ""))
        path, method = request.url.path.removeprefix("/v1"), request.method
        if method == "POST" and path in ("/images/generations", "/images/edits"):
            return self._submit("edit" if path.endswith("edits") else "generation", json.loads(request.content))
        if method == "GET" and path.startswith("/jobs/"):
            return self._read(path.split("/")[2])
        if method == "POST" and path.endswith("/cancel"):
            return self._cancel(path.split("/")[2])
        if method == "GET" and path == "/jobs":
            return httpx.Response(200, json={"object": "list", "data": list(self.jobs.values()), "has_more": False})
        if method == "GET" and path == "/account":
            return httpx.Response(200, json={"id": "acct", "object": "account", "balance_micros": self.balance_micros,
                                             "in_flight": 0})
        if method == "GET" and path == "/models":
            return httpx.Response(200, json={"object": "list", "data": [{"id": "gpt-image-2"}]})
        if method == "POST" and path == "/uploads":
            return httpx.Response(201, json={"id": "file_1", "status": "pending",
                                             "upload": {"url": "http://storage.test/uploads", "fields": {"k": "v"}}})
        if method == "GET" and path.startswith("/files/"):
            return httpx.Response(200, json={"id": path.split("/")[2], "status": "ready"})
        return httpx.Response(404, json={"message": "Not Found"})

    def _submit(self, kind: str, body: dict[str, Any]) -> httpx.Response:
        if self.refuse_submit is not None:
            status, error = self.refuse_submit
            return httpx.Response(status, json={"error": error})
        job_id = f"job_{len(self.jobs) + 1}"
        self.submitted.append(body)
        self.jobs[job_id] = {"id": job_id, "object": "image.job", "kind": kind, "status": "queued",
                             "model": body.get("model", "gpt-image-2"), "created_at": 1_700_000_000,
                             "size": body.get("size"), "output_format": body.get("output_format", "png"), "data": []}
        return httpx.Response(202, json=self.jobs[job_id])

    def _read(self, job_id: str) -> httpx.Response:
        job = self.jobs.get(job_id)
        if job is None:
            return httpx.Response(404, json={"error": {"message": "No such job", "type": "invalid_request_error",
                                                       "code": "job_not_found", "param": None}})
        self.reads[job_id] = self.reads.get(job_id, 0) + 1
        if job["status"] in ("queued", "running") and self.reads_to_finish is not None:
            job["status"] = "running"
            if self.reads[job_id] >= self.reads_to_finish:
                job.update(status="succeeded", completed_at=1_700_000_030, usage={"cost_micros": 42_000},
                           data=[{"url": f"{OUTPUTS}/{job_id}-{i}.png", "width": 64, "height": 48,
                                  "content_type": "image/png", "bytes": 100} for i in range(self.images_per_job)])
        return httpx.Response(200, json=job)

    def _cancel(self, job_id: str) -> httpx.Response:
        job = self.jobs.get(job_id)
        if job is None:
            return httpx.Response(404, json={"error": {"message": "No such job", "code": "job_not_found"}})
        if job["status"] != "queued":
            return httpx.Response(409, json={"error": {"message": "already running", "code": "job_not_cancelable"}})
        job["status"] = "canceled"
        return httpx.Response(200, json=job)
