"""Bodies the edit (or the generation) refuses with a 400, each with the sample event it is sent as: a quote of the
same body must be refused alike, code and param. Shared by the unit tier (jobs/quote.py on fakes) and the
integration tier (the api function on moto)."""

from __future__ import annotations

import pytest

from tests.builders import data_url, mask_png, png

IMAGE_URL = "https://images.example/a.png"
# 1024x1024 (a data: image) beside a 1x1 mask: both read whole, in the quote as in the edit.
LARGE = data_url(png(1024, 1024))

REFUSED_AS_SUBMITTED = [
    pytest.param("edit_json.json", {"images": [{"image_url": "ftp://images.example/a.png"}]}, id="ftp-image-url"),
    pytest.param("edit_json.json", {"images": [{"image_url": "data:image/png;base64,@@not-base64@@"}]},
                 id="malformed-data-url"),
    pytest.param("edit_json.json", {"images": [{"image_url": "data:image/png,raw"}]}, id="data-url-not-base64"),
    pytest.param("edit_json.json", {"images": [{"image_url": "https://images.example/" + "a" * 70_000}]},
                 id="70000-char-url"),
    pytest.param("edit_json.json", {"images": [{"image_url": IMAGE_URL}], "mask": {"image_url": "javascript:alert(1)"}},
                 id="javascript-mask-url"),
    pytest.param("edit_json.json", {"images": [{"image_url": LARGE}], "mask": {"image_url": data_url(mask_png(1, 1))}},
                 id="1x1-mask-for-1024x1024-image"),
    pytest.param("edit_json.json", {"images": [{"image_url": data_url(b"GIF89a not an image")}]},
                 id="not-an-image"),
    pytest.param("edit_json.json", {"images": [{"image_url": IMAGE_URL}] * 17}, id="17-images"),
    pytest.param("edit_json.json", {"images": [{"image_url": IMAGE_URL, "file_id": "file_x"}]}, id="two-references"),
    pytest.param("edit_json.json", {"image": [{"image_url": IMAGE_URL}]}, id="image-not-images"),
    pytest.param("edit_json.json", {"images": [{"file_id": "file_" + "b" * 24}]}, id="unknown-file"),
    pytest.param("generation.json", {"webhook_url": "http://x"}, id="http-webhook-url"),
    pytest.param("generation.json", {"webhook_url": "https://user:secret@hooks.example/in"},
                 id="webhook-url-with-credentials"),
    pytest.param("generation.json", {"webhook_events": ["job.failed"]}, id="webhook-events-without-url"),
]
