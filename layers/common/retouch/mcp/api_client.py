"""The Retouch HTTP API as the MCP server calls it: one async httpx client, the caller's own key on every request.

The MCP server is a client of the public API, in the mcp function as in `retouch-mcp` on a desktop: submissions go
through the same routes, checks, limits, holds and ledger as any other caller's, so MCP adds no second way to make
or bill a job. Errors come back as `ApiRefused`, carrying the API's OpenAI-shaped error (its message and code are
what the agent is shown); nothing here logs a prompt, an image or a key.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from retouch.catalog import MAX_FILE_BYTES

# Presigned output URLs and upload posts go to S3 (or the local emulation), not to the API: no key is sent there.
_UPLOAD_READY_POLLS = 20
_UPLOAD_READY_PAUSE_SECONDS = 0.25


class ApiRefused(Exception):
    """The API answered an error: its status and its OpenAI-shaped `error` object."""

    def __init__(self, status: int, message: str, *, code: str | None = None, error_type: str | None = None,
                 param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.error_type = error_type
        self.param = param


@dataclass(frozen=True)
class Connection:
    """Where the API is and whose key calls it."""

    base_url: str  # without /v1
    api_key: str
    timeout_seconds: float = 30.0


class RetouchApi:
    """The routes the MCP tools use, each one call; `http` is owned by the caller (closed with it)."""

    def __init__(self, connection: Connection, http: httpx.AsyncClient) -> None:
        self._base = connection.base_url.rstrip("/") + "/v1"
        self._headers = {"Authorization": f"Bearer {connection.api_key}"}
        self._timeout = connection.timeout_seconds
        self._http = http

    async def _call(self, method: str, path: str, *, json: dict[str, Any] | None = None,
                    params: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
        try:
            response = await self._http.request(method, self._base + path, json=json, params=params,
                                                headers={**self._headers, **(headers or {})}, timeout=self._timeout)
        except httpx.HTTPError as exc:  # unreachable or timed out: a submit may still have been made, so say so
            raise ApiRefused(503, f"The Retouch API could not be reached ({type(exc).__name__}); if this was a "
                             "submission, list_jobs shows whether it was made.", code="api_unreachable") from None
        body = _json_or_none(response)
        if response.status_code >= 400:
            raise _refusal(response.status_code, body)
        if not isinstance(body, dict):
            raise ApiRefused(response.status_code, "The Retouch API answered something that is not a JSON object.")
        return body

    async def submit(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a generation or an edit (JSON), answered at once with the queued job (`Prefer: respond-async`)."""
        path = "/images/generations" if kind == "generation" else "/images/edits"
        return await self._call("POST", path, json=body, headers={"Prefer": "respond-async"})

    async def job(self, job_id: str) -> dict[str, Any]:
        return await self._call("GET", f"/jobs/{job_id}")

    async def cancel(self, job_id: str) -> dict[str, Any]:
        return await self._call("POST", f"/jobs/{job_id}/cancel")

    async def jobs(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._call("GET", "/jobs", params=params)

    async def account(self) -> dict[str, Any]:
        return await self._call("GET", "/account")

    async def models(self) -> dict[str, Any]:
        return await self._call("GET", "/models")

    async def upload(self, path: Path) -> str:
        """Upload a local file through `/v1/uploads` (a presigned POST straight to S3) and wait until the API has
        checked it; returns its `file_id`."""
        if path.stat().st_size > MAX_FILE_BYTES:  # refused by /v1/uploads anyway: never read it into memory
            raise ApiRefused(400, f"{path.name} is larger than the {MAX_FILE_BYTES} bytes an upload may have.",
                             code="file_too_large", param="images")
        data = path.read_bytes()
        mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        created = await self._call("POST", "/uploads",
                                   json={"filename": path.name, "bytes": len(data), "mime_type": mime_type})
        target = created["upload"]
        posted = await self._http.post(target["url"], data=target["fields"],
                                       files={"file": (path.name, data, mime_type)}, timeout=self._timeout)
        if posted.status_code >= 300:
            raise ApiRefused(posted.status_code, f"The upload of {path.name} was refused by storage.",
                             code="upload_failed")
        file_id = str(created["id"])
        for _ in range(_UPLOAD_READY_POLLS):
            record = await self._call("GET", f"/files/{file_id}")
            if record.get("status") == "ready":
                return file_id
            if record.get("status") == "rejected":
                error = record.get("error") or {}
                raise ApiRefused(400, str(error.get("message") or f"{path.name} was rejected."),
                                 code=str(error.get("code") or "file_rejected"), param="images")
            await _pause(_UPLOAD_READY_PAUSE_SECONDS)
        return file_id  # still pending: the submit itself reads it and answers why, if it is not usable

    async def image_bytes(self, url: str, max_bytes: int) -> bytes | None:
        """An output image by its presigned URL, or None when it is larger than `max_bytes` (never read whole)."""
        async with self._http.stream("GET", url, timeout=self._timeout) as response:
            if response.status_code != 200:
                return None
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    return None
                chunks.append(chunk)
            return b"".join(chunks)


async def _pause(seconds: float) -> None:
    import anyio  # the MCP SDK's event-loop layer; imported where used

    await anyio.sleep(seconds)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _refusal(status: int, body: Any) -> ApiRefused:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return ApiRefused(status, str(error.get("message") or "The Retouch API refused the request."),
                          code=error.get("code"), error_type=error.get("type"), param=error.get("param"))
    message = body.get("message") if isinstance(body, dict) else None  # API Gateway's own answers
    return ApiRefused(status, str(message or f"The Retouch API answered HTTP {status}."))
