"""An account's webhook settings as its people manage them in the console: the default URL, the signing secrets
(each shown once, when it is created) and their rotation. The same functions as the admin tool's `webhooks` commands
(webhooks/account.py): the console only shapes their answers."""

from __future__ import annotations

from retouch.errors import InvalidWebhookUrl
from retouch.models.console_routes import RotatedSecret, SecretLifetime, WebhookSettingsView
from retouch.ports import WebhookSettingsRepository
from retouch.webhooks.account import ensure_secret, rotate_secret, set_default_url, summary


def webhook_settings(repo: WebhookSettingsRepository, account_id: str, *,
                     new_secret: str | None = None) -> WebhookSettingsView:
    """The URL and the secrets' lifetimes, never a secret's value (but `new_secret`, made by this request)."""
    info = summary(repo, account_id)
    return WebhookSettingsView(url=info.default_url, secret=new_secret,
                               secrets=[SecretLifetime(created_at=created, expires_at=expires)
                                        for created, expires in info.secrets])


def set_webhook_url(repo: WebhookSettingsRepository, account_id: str, url: str | None, *,
                    allowlist: frozenset[str]) -> WebhookSettingsView:
    """Sets (None: clears) the default URL; an account without a signing secret gets one, shown in this answer only.
    The URL's shape is checked here (https, a host, no credentials); its addresses at every submit and delivery."""
    try:
        set_default_url(repo, account_id, url, allowlist=allowlist)
    except ValueError as exc:
        raise InvalidWebhookUrl(f"url refused: {exc}.", param="url") from None
    return webhook_settings(repo, account_id, new_secret=ensure_secret(repo, account_id) if url else None)


def rotate_webhook_secret(repo: WebhookSettingsRepository, account_id: str) -> RotatedSecret:
    """A new signing secret (shown once); the ones it replaces keep signing beside it for the rotation window, so
    receivers switch at their own pace. `previous_expires_at`: when they stop (None: it is the account's first)."""
    secret = rotate_secret(repo, account_id)
    previous = [expires for _created, expires in summary(repo, account_id).secrets[1:] if expires is not None]
    return RotatedSecret(secret=secret, previous_expires_at=max(previous, default=None))
