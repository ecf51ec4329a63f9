"""The catalog's upstream model names are the registry's, and the ones the adapters send by default."""

from __future__ import annotations

from retouch.catalog import GPT_IMAGE_2, MODELS
from retouch.providers import aiml, fal, modelslab, oxen, runflow
from retouch.upstream_registry import UPSTREAMS


def test_gpt_image_2_upstream_names_match_the_adapters() -> None:
    names = dict(GPT_IMAGE_2.upstreams)
    assert names["aiml"] == aiml.MODEL
    assert names["modelslab"] == modelslab.MODEL
    assert names["oxen"] == oxen.MODEL
    assert names["runflow"] == runflow.MODEL
    assert names["fal"] == fal.MODEL


def test_each_models_upstreams_are_the_registry_entries_serving_it() -> None:
    for model_id, spec in MODELS.items():
        assert spec.upstreams == tuple((kind, entry.models[model_id]) for kind, entry in UPSTREAMS.items()
                                       if model_id in entry.models)
