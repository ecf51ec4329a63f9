"""retouch/validation.py maps where a submit is validated; every place it names must exist, so the map cannot
drift from the code it points at."""

from __future__ import annotations

import importlib
import re

import retouch.validation

_DOTTED = re.compile(r"\bretouch(?:\.[A-Za-z_]+)+")


def _resolve(dotted: str) -> object:
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for name in parts[split:]:
            target = getattr(target, name)
        return target
    raise ModuleNotFoundError(dotted)


def test_every_place_the_validation_map_names_exists() -> None:
    named = _DOTTED.findall(retouch.validation.__doc__ or "")
    assert len(named) >= 12
    for dotted in named:
        assert callable(_resolve(dotted)), dotted
