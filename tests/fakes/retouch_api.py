"""An in-memory Retouch HTTP API for the MCP server's tests (served through httpx.MockTransport): jobs that run on
each read, uploads, cancel of queued jobs, the account; it records what was submitted so a test can say "no job was
made". Jobs are JobRecords rendered by the API's own view (jobs/view.py `render_job`, as GET /v1/jobs/{id} answers
them), so the MCP server is tested against the job object's real shape: real ids, `usage.cost_usd`, presigned URLs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from retouch.jobs.view import render_job
from retouch.models.records import JobRecord, StoredOutput
from tests.builders import new_account_id, new_job_id, png
from tests.fakes.storage import FakeObjectStore

BASE = "http://retouch.test"
OUTPUTS = "https://bucket.example/"  # where FakeObjectStore presigns its objects
OUTPUT_BYTES = png(64, 48)
# What a settled job of the fake costs, as the worker stores it (billing/charges.py `_job_usage`)
COST_MICROS = 42_000


@dataclass
class FakeRetouchApi:
    """`reads_to_finish`: how many GETs of a job it takes to succeed (None: it never starts, stays queued)."""

    reads_to_finish: int | None = 2
    images_per_job: int = 1
    balance_micros: int = 100_000_000
    refuse_submit: tuple[int, dict[str, Any]] | None = None
    jobs: dict[str, JobRecord] = field(default_factory=dict)
    store: FakeObjectStore = field(default_factory=FakeObjectStore)
    account_id: str = field(default_factory=new_account_id)
    reads: dict[str, int] = field(default_factory=dict)
    submitted: list[dict[str, Any]] = field(default_factory=list)
    keys_seen: set[str] = field(default_factory=set)
    uploads: dict[str, bytes] = field(default_factory=dict)
    paths_seen: list[str] = field(default_factory=list)  # every API path called, in order

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if url.startswith(OUTPUTS):
            return httpx.Response(200, content=OUTPUT_BYTES)
        if url.startswith("http://storage.test/uploads"):
            self.uploads[url] = request.content
            return httpx.Response(204)
        self.keys_seen.add(request.headers.get("authorization", ""))
        path, method = request.url.path.removeprefix("/v1"), request.method
        self.paths_seen.append(request.url.path)
        if method == "POST" and path in ("/images/generations", "/images/edits"):
            return self._submit("edit" if path.endswith("edits") else "generation", json.loads(request.content))
        if method == "GET" and path.startswith("/jobs/"):
            return self._read(path.split("/")[2])
        if method == "POST" and path.endswith("/cancel"):
            return self._cancel(path.split("/")[2])
        if method == "GET" and path == "/jobs":
            return httpx.Response(200, json={"object": "list", "data": [self.view(job) for job in self.jobs.values()],
                                             "has_more": False})
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

    def view(self, job: JobRecord) -> dict[str, Any]:
        """The job as GET /v1/jobs/{id} answers it (web/responses.py `json_response`)."""
        return render_job(job, self.store, 600).model_dump(mode="json", exclude_none=True)

    def _submit(self, kind: str, body: dict[str, Any]) -> httpx.Response:
        if self.refuse_submit is not None:
            status, error = self.refuse_submit
            return httpx.Response(status, json={"error": error})
        self.submitted.append(body)
        request = {"model": "gpt-image-2", "output_format": "png", **body}
        job = JobRecord(job_id=new_job_id(), account_id=self.account_id, kind=kind, status="queued",
                        model=request["model"], request=request, created_at=1_700_000_000,
                        expires_at=1_700_086_400, reserved_micros=1_000_000)
        self.jobs[job.job_id] = job
        return httpx.Response(202, json=self.view(job))

    def _read(self, job_id: str) -> httpx.Response:
        job = self.jobs.get(job_id)
        if job is None:
            return httpx.Response(404, json={"error": {"message": "No such job", "type": "invalid_request_error",
                                                       "code": "job_not_found", "param": None}})
        self.reads[job_id] = self.reads.get(job_id, 0) + 1
        if job.status in ("queued", "running") and self.reads_to_finish is not None:
            job.status, job.started_at = "running", 1_700_000_001
            if self.reads[job_id] >= self.reads_to_finish:
                self._succeed(job)
        return httpx.Response(200, json=self.view(job))

    def _succeed(self, job: JobRecord) -> None:
        job.outputs = []
        for index in range(self.images_per_job):
            key = f"outputs/{job.account_id}/{job.job_id}/{index}.png"
            self.store.put(key, OUTPUT_BYTES, "image/png")
            job.outputs.append(StoredOutput(key=key, content_type="image/png", bytes=len(OUTPUT_BYTES), width=64,
                                            height=48))
        job.status, job.completed_at = "succeeded", 1_700_000_030
        job.usage = {"images": self.images_per_job, "cost_micros": COST_MICROS,
                     "pricing": {"outputs_micros": COST_MICROS, "inputs_micros": 0, "input_text_tokens": 12,
                                 "input_image_tokens": 0, "input_basis": "reported"}}

    def _cancel(self, job_id: str) -> httpx.Response:
        job = self.jobs.get(job_id)
        if job is None:
            return httpx.Response(404, json={"error": {"message": "No such job", "code": "job_not_found"}})
        if job.status != "queued":
            return httpx.Response(409, json={"error": {"message": "already running", "code": "job_not_cancelable"}})
        job.status, job.completed_at = "canceled", 1_700_000_002
        return httpx.Response(200, json=self.view(job))
