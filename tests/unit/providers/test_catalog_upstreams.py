"""The catalog's upstream model names are the ones the adapters send."""

from __future__ import annotations

from retouch.catalog import GPT_IMAGE_2
from retouch.providers import aiml, fal, modelslab, oxen, runflow


def test_gpt_image_2_upstream_names_match_the_adapters() -> None:
    names = dict(GPT_IMAGE_2.upstreams)
    assert names["aiml"] == aiml.MODEL
    assert names["modelslab"] == modelslab.MODEL
    assert names["oxen"] == oxen.MODEL
    assert names["runflow"] == runflow.MODEL
    assert names["fal"] == fal.MODEL
