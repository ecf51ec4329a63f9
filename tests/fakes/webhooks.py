"""In-memory WebhookSettingsRepository (see retouch.ports)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from retouch.models.webhooks import AccountWebhookSettings
from retouch.ports import SettingsConflict

if TYPE_CHECKING:
    from retouch import ports


def no_webhook(_account_id: str, _request: object) -> None:
    """`webhook_for` for tests whose jobs subscribe to no webhook."""
    return None


class FakeSettings:
    def __init__(self, *initial: AccountWebhookSettings) -> None:
        self.items = {s.account_id: s.model_copy(deep=True) for s in initial}

    def get(self, account_id: str) -> AccountWebhookSettings | None:
        found = self.items.get(account_id)
        return found.model_copy(deep=True) if found else None

    def put(self, settings: AccountWebhookSettings, *, expected_version: int | None) -> None:
        current = self.items.get(settings.account_id)
        if (current.version if current else None) != expected_version:
            raise SettingsConflict(settings.account_id)
        self.items[settings.account_id] = settings.model_copy(deep=True)


if TYPE_CHECKING:  # mypy checks each fake against its port
    _settings: ports.WebhookSettingsRepository = FakeSettings()
