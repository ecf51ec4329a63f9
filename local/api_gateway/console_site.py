"""The console's static site, as the ConsoleDistribution serves it in AWS: CloudFront's `/console/*` behaviour (S3
through origin access control, with the ConsoleRewrite function answering index.html for the app's client-side
routes) in front of the HTTP API, which keeps `/console/api/*`, `/v1/*` and the rest.

Locally the gateway asks this first: a GET or HEAD under /console/ (but not /console/api/) is a file of console/dist,
with its content type, the cache policy `docs/console.md` gives the S3 upload, and the security headers of the
distribution's response headers policy (ConsoleSecurityHeaders in template.yaml; a unit test keeps the two equal).
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from local.api_gateway.http_events import HttpRequest, HttpResponse

CONSOLE_PREFIX = "/console"
API_PREFIX = "/console/api/"
INDEX = "index.html"
# Vite puts content-hashed files under assets/: cached for a year; the rest (index.html, the icon) revalidated.
IMMUTABLE_DIR = "assets"
CACHE_IMMUTABLE = "public, max-age=31536000, immutable"
CACHE_REVALIDATE = "no-cache"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon", ".json": "application/json",
    ".map": "application/json", ".txt": "text/plain; charset=utf-8", ".woff2": "font/woff2",
}


def content_security_policy(s3_origin: str) -> str:
    """The console's CSP: everything from its own origin, except the images and uploads that go straight to the
    bucket (presigned GET links and POSTs) and the local previews of picked files (blob:)."""
    return (f"default-src 'self'; img-src 'self' blob: {s3_origin}; connect-src 'self' {s3_origin}; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def security_headers(s3_origin: str) -> list[tuple[str, str]]:
    """The response headers policy's headers (CloudFront adds them to every console response)."""
    return [
        ("content-security-policy", content_security_policy(s3_origin)),
        ("strict-transport-security", "max-age=63072000; includeSubDomains"),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
    ]


def _text(status: int, message: str, headers: list[tuple[str, str]]) -> HttpResponse:
    return HttpResponse(status, [("content-type", "text/plain; charset=utf-8"), *headers], message.encode())


@dataclass(frozen=True)
class ConsoleSite:
    dist: Path  # console/dist, as `make console` builds it
    s3_origin: str  # where presigned links point (the local S3 endpoint)

    def serves(self, path: str) -> bool:
        return (path == CONSOLE_PREFIX or path.startswith(f"{CONSOLE_PREFIX}/")) and not path.startswith(API_PREFIX)

    def respond(self, request: HttpRequest) -> HttpResponse | None:
        """The answer to a console path, None for any other (the HTTP API's)."""
        path = request.raw_path
        if not self.serves(path):
            return None
        headers = security_headers(self.s3_origin)
        if request.method not in ("GET", "HEAD"):
            return _text(403, "Forbidden", headers)  # the behaviour allows GET and HEAD only, as CloudFront's
        if path == CONSOLE_PREFIX:
            return HttpResponse(301, [("location", f"{CONSOLE_PREFIX}/"), *headers])
        raw = path[len(CONSOLE_PREFIX) + 1:]
        relative = PurePosixPath(raw)
        if (raw and any(part in ("..", ".", "") for part in raw.split("/"))) or "\\" in path:
            return _text(404, "Not Found", headers)
        file = self.dist / relative if relative.parts else self.dist / INDEX
        if not relative.suffix and not file.is_file():
            file = self.dist / INDEX  # a client-side route: the app decides (ConsoleRewrite does this in AWS)
        if not file.is_file():
            if not (self.dist / INDEX).is_file():
                return _text(503, "The console is not built: run `make console`.", headers)
            return _text(404, "Not Found", headers)
        content_type = (CONTENT_TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0]
                        or "application/octet-stream")
        cache = CACHE_IMMUTABLE if relative.parts[:1] == (IMMUTABLE_DIR,) else CACHE_REVALIDATE
        return HttpResponse(200, [("content-type", content_type), ("cache-control", cache), *headers],
                            file.read_bytes())
