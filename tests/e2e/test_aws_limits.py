"""The local stack refuses what AWS refuses, the way AWS answers (local/aws/limits.py): multipart edits that fit
Lambda's 6 MB event, that fit API Gateway's 10 MB body but not Lambda's event, and that fit neither."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image

pytestmark = pytest.mark.e2e

MB = 1024 * 1024  # MiB, as AWS counts its limits


def noisy_png(target_bytes: int) -> bytes:
    """A valid PNG of about `target_bytes` (noise does not compress)."""
    side = int((target_bytes / 3) ** 0.5)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, format="PNG", compress_level=0)
    return buffer.getvalue()


@pytest.mark.parametrize(("size", "status", "body"), [
    pytest.param(3 * MB, 202, None, id="3MB-fits-lambdas-event"),
    pytest.param(4.6 * MB, 413, {"message": "Request Entity Too Large"}, id="4.6MB-over-lambdas-6MB-event"),
    pytest.param(9 * MB, 413, {"message": "Request Entity Too Large"}, id="9MB-over-lambdas-6MB-event"),
    pytest.param(11 * MB, 413, {"message": "Request Entity Too Large"}, id="11MB-over-api-gateways-10MB-body"),
])
def test_multipart_edits_meet_the_same_limits_as_in_aws(http, size, status, body):
    image = noisy_png(int(size))
    response = http.post("/v1/images/edits", data={"prompt": f"limits {len(image)}"},
                         files={"image": ("photo.png", image, "image/png")})
    assert response.status_code == status, response.text[:300]
    if body is not None:
        assert response.json() == body
