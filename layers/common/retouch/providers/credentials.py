"""The provider key is checked before it is used: a placeholder (the template's `replace-me`) is as good as a refused
key, so it ends jobs `provider_auth_failed` at once instead of being sent upstream and retried. What counts as a
placeholder is retouch/secret_placeholders.py's, shared with Stripe's keys."""

from __future__ import annotations

from retouch.providers.base import ProviderAuthFailed
from retouch.secret_placeholders import is_unset


def usable_key(key: str, upstream: str) -> str:
    """`key` unless it is empty or a placeholder; then ProviderAuthFailed (whose message never holds the key)."""
    if is_unset(key):
        raise ProviderAuthFailed(f"the {upstream} key in the provider secret is unset (empty or a placeholder such as "
                                 "replace-me); put the real key in the secret")
    return key
