"""What a secret reads like while nobody has set it. The template creates its secrets with `replace-me` (the provider's
key, both of the Stripe secret's keys); such a value, or an empty one, is never used as a key: the provider key ends
jobs `provider_auth_failed` (providers/credentials.py), and Stripe's keys mean payments are not enabled
(payments/stripe_gateway.py), so nothing is ever verified with a value anyone can read in the template."""

from __future__ import annotations

# Compared after stripping and lower-casing; the template's default is the first.
PLACEHOLDER_VALUES = frozenset({"replace-me", "replace_me", "changeme", "change-me", "placeholder", "todo", "none"})


def is_unset(value: str) -> bool:
    """True for an empty or blank value and for a placeholder (any case, surrounding spaces ignored)."""
    stripped = value.strip()
    return not stripped or stripped.lower() in PLACEHOLDER_VALUES
