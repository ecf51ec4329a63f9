"""One notion of an unset secret (retouch/secret_placeholders.py), shared by the provider key and Stripe's keys: the
template's `replace-me` and its relations, in any case and with spaces around, and an empty value."""

from __future__ import annotations

import pytest

from retouch.secret_placeholders import PLACEHOLDER_VALUES, is_unset


@pytest.mark.parametrize("value", ["", "   ", "replace-me", " Replace-Me ", "CHANGEME", "todo", "none"])
def test_empty_and_placeholder_values_are_unset(value: str) -> None:
    assert is_unset(value)


@pytest.mark.parametrize("value", ["sk_test_abc", "whsec_abc", "sk-live-abc", "replace-me-please"])
def test_real_looking_values_are_set(value: str) -> None:
    assert not is_unset(value)


def test_the_templates_own_values_are_placeholders() -> None:
    assert "replace-me" in PLACEHOLDER_VALUES

