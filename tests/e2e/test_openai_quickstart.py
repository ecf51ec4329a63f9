"""OpenAI's published edit quickstart, run as written against the synchronous entry: `OpenAI()` configured only by
the environment (OPENAI_BASE_URL, OPENAI_API_KEY), `images.edit` with four files, then
`base64.b64decode(result.data[0].b64_json)`, which raises TypeError if the answer is a URL."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from tests.e2e.conftest import png_bytes

pytestmark = pytest.mark.e2e

# The image generation guide's "Edit images" example, verbatim (gpt-image-2, the model this API serves).
QUICKSTART = '''
import base64
from openai import OpenAI
client = OpenAI()

prompt = """
Generate a photorealistic image of a gift basket on a white background
labeled 'Relax & Unwind' with a ribbon and handwriting-like font,
containing all the items in the reference pictures.
"""

result = client.images.edit(
    model="gpt-image-2",
    image=[
        open("body-lotion.png", "rb"),
        open("bath-bomb.png", "rb"),
        open("incense-kit.png", "rb"),
        open("soap.png", "rb"),
    ],
    prompt=prompt
)

image_base64 = result.data[0].b64_json
image_bytes = base64.b64decode(image_base64)

# Save the image to a file
with open("gift-basket.png", "wb") as f:
    f.write(image_bytes)
'''


def test_openais_edit_quickstart_runs_unmodified_against_the_sync_entry(stack, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch):
    # Given the four reference pictures in the working directory, and the SDK pointed at the sync entry by its
    # environment variables only
    for index, name in enumerate(("body-lotion", "bath-bomb", "incense-kit", "soap")):
        (tmp_path / f"{name}.png").write_bytes(png_bytes((64, 64), (40 * index, 90, 200)))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_BASE_URL", f"{stack.function_urls['SyncFunction']}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", stack.api_key)

    # When the quickstart runs exactly as published
    exec(compile(QUICKSTART, "openai-quickstart.py", "exec"), {})  # noqa: S102 - OpenAI's own sample

    # Then it saved a real image decoded from b64_json
    image = Image.open(io.BytesIO((tmp_path / "gift-basket.png").read_bytes()))
    assert image.format == "PNG" and image.width >= 1024
