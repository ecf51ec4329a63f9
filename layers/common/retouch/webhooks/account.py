"""An account's webhook settings: its default URL and its signing secrets (created, rotated, retired).

A secret is shown once, when it is created; only the signer reads it afterwards. Rotation adds a
new secret and gives the old one `window_seconds` more to live: meanwhile every event carries
both signatures, so receivers can switch at their own pace.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from retouch.models.common import now_epoch
from retouch.models.webhooks import MAX_WEBHOOK_URL, AccountWebhookSettings, SigningSecret
from retouch.outbound_http.url_safety import DEFAULT_PORTS, is_allowlisted
from retouch.ports import SettingsConflict, WebhookSettingsRepository
from retouch.retry import SETTINGS_WRITE_TRIES
from retouch.webhooks.signing import generate_secret

DEFAULT_ROTATION_WINDOW_SECONDS = 24 * 3600


@dataclass(frozen=True)
class WebhookSummary:
    """What the admin tool may show: never a secret."""

    account_id: str
    default_url: str | None
    secrets: list[tuple[int, int | None]]  # (created_at, expires_at) of each active secret, newest first


def _update(repo: WebhookSettingsRepository, account_id: str,
            change: Callable[[AccountWebhookSettings, int], None]) -> AccountWebhookSettings:
    """Read, change, write conditionally on the version read; again on a concurrent change."""
    for _ in range(SETTINGS_WRITE_TRIES):
        current = repo.get(account_id)
        expected = current.version if current else None
        settings = (current or AccountWebhookSettings(account_id=account_id)).model_copy(deep=True)
        now = now_epoch()
        change(settings, now)
        settings.secrets = [s for s in settings.secrets if s.active(now)]
        settings.version = (expected or 0) + 1
        try:
            repo.put(settings, expected_version=expected)
        except SettingsConflict:
            continue
        return settings
    raise SettingsConflict(account_id)


def rotate_secret(repo: WebhookSettingsRepository, account_id: str,
                  window_seconds: int = DEFAULT_ROTATION_WINDOW_SECONDS) -> str:
    """Creates the account's first secret, or a new one with the old signing too for `window_seconds`.
    Returns the new secret: the only time it is shown."""
    new = generate_secret()

    def change(settings: AccountWebhookSettings, now: int) -> None:
        for old in settings.secrets:
            if old.expires_at is None or old.expires_at > now + window_seconds:
                old.expires_at = now + window_seconds
        settings.secrets.insert(0, SigningSecret(secret=new, created_at=now))

    _update(repo, account_id, change)
    return new


def retire_old_secrets(repo: WebhookSettingsRepository, account_id: str) -> None:
    """Ends a rotation window early: only the newest secret signs from now on."""

    def change(settings: AccountWebhookSettings, _now: int) -> None:
        settings.secrets = settings.secrets[:1]

    _update(repo, account_id, change)


def ensure_secret(repo: WebhookSettingsRepository, account_id: str) -> str | None:
    """A new secret when the account has none (returned, to be shown once); None when it has one."""
    current = repo.get(account_id)
    if current and current.signing_secrets(now_epoch()):
        return None
    return rotate_secret(repo, account_id)


def set_default_url(repo: WebhookSettingsRepository, account_id: str, url: str | None, *,
                    allowlist: frozenset[str] = frozenset()) -> None:
    """The URL used for jobs that give none (None clears it). Its shape is checked here; its addresses at
    every submit and delivery, where DNS answers are current."""
    if url is not None:
        _check_shape(url, allowlist)

    def change(settings: AccountWebhookSettings, _now: int) -> None:
        settings.default_url = url

    _update(repo, account_id, change)


def summary(repo: WebhookSettingsRepository, account_id: str) -> WebhookSummary:
    current = repo.get(account_id) or AccountWebhookSettings(account_id=account_id)
    now = now_epoch()
    return WebhookSummary(account_id=account_id, default_url=current.default_url,
                          secrets=[(s.created_at, s.expires_at) for s in current.secrets if s.active(now)])


def _check_shape(url: str, allowlist: frozenset[str]) -> None:
    try:
        parts = urlsplit(url)
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError as exc:
        raise ValueError("invalid webhook URL: it could not be parsed") from exc
    if not host or "@" in parts.netloc or len(url) > MAX_WEBHOOK_URL:
        raise ValueError("invalid webhook URL: it needs a host, no credentials, at most 2048 characters")
    scheme = parts.scheme.lower()
    allowlisted = is_allowlisted(host, port or DEFAULT_PORTS.get(scheme, 0), allowlist)
    if scheme != "https" and not allowlisted:
        raise ValueError("invalid webhook URL: only https URLs are allowed")
