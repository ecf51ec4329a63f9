"""The provider key is checked before it is used: a placeholder (the template's `replace-me`) is as good as a refused
key, so it ends jobs `provider_auth_failed` at once instead of being sent upstream and retried."""

from __future__ import annotations

from retouch.providers.base import ProviderAuthFailed

# What a key reads like while nobody has set one (the template's default is the first).
PLACEHOLDER_KEYS = frozenset({"replace-me", "replace_me", "changeme", "change-me", "placeholder", "todo", "none"})


def usable_key(key: str, upstream: str) -> str:
    """`key` unless it is empty or a placeholder; then ProviderAuthFailed (whose message never holds the key)."""
    if key.strip().lower() in PLACEHOLDER_KEYS or not key.strip():
        raise ProviderAuthFailed(f"the {upstream} key in the provider secret is unset (empty or a placeholder such as "
                                 "replace-me); put the real key in the secret")
    return key
