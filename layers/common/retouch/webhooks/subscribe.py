"""A job's webhook at submit: its URL (or the account's default) vetted against SSRF, and its events."""

from __future__ import annotations

from dataclasses import dataclass

from retouch.errors import InvalidRequest, InvalidWebhookUrl, WebhookSecretMissing
from retouch.models.common import now_epoch
from retouch.models.requests import ImageOptions
from retouch.models.webhooks import DEFAULT_EVENTS, EVENT_TYPES, JobWebhook
from retouch.outbound_http.url_safety import ResolveFn, UnsafeUrl, check_url, resolve_within
from retouch.ports import WebhookSettingsRepository

SECRET_HINT = "an operator creates one with `retouch-admin webhooks rotate-secret <account>`"  # noqa: S105


# The submit path answers within API Gateway's 30 s; a name server that does not answer must not hold it.
SUBMIT_DNS_TIMEOUT_SECONDS = 3.0


def vet_webhook_url(url: str, *, allowlist: frozenset[str], resolve: ResolveFn | None = None) -> None:
    """Raises InvalidWebhookUrl unless `url` is https (or allowlisted) and reaches only public addresses."""
    try:
        check_url(url, allowlist=allowlist, resolve=resolve or resolve_within(SUBMIT_DNS_TIMEOUT_SECONDS),
                  require_https=True)
    except UnsafeUrl as exc:
        raise InvalidWebhookUrl(f"webhook_url refused: {exc.message}.", param="webhook_url") from exc


@dataclass(frozen=True)
class WebhookSubscriber:
    """`subscriber(account_id, request)` -> the job's JobWebhook, or None when it gets no events."""

    settings: WebhookSettingsRepository
    allowlist: frozenset[str] = frozenset()
    resolve: ResolveFn | None = None  # None: real DNS, given SUBMIT_DNS_TIMEOUT_SECONDS

    def __call__(self, account_id: str, request: ImageOptions) -> JobWebhook | None:
        account = self.settings.get(account_id)
        url = request.webhook_url or (account.default_url if account else None)
        if url is None:
            if request.webhook_events:
                raise InvalidRequest("webhook_events needs a webhook_url (this account has no default webhook URL).",
                                     param="webhook_events")
            return None
        chosen = DEFAULT_EVENTS if request.webhook_events is None else request.webhook_events
        events = [name for name in EVENT_TYPES if name in chosen]
        if not events:
            return None  # `webhook_events: []` opts a job out of the account's default webhook
        try:
            vet_webhook_url(url, allowlist=self.allowlist, resolve=self.resolve)
        except InvalidWebhookUrl as exc:
            if request.webhook_url is None:
                exc.message = f"The account's default webhook URL is refused: {exc.message}"
            raise
        if account is None or not account.signing_secrets(now_epoch()):
            raise WebhookSecretMissing(f"This account has no webhook signing secret yet; {SECRET_HINT}.",
                                       param="webhook_url")
        return JobWebhook(url=url, events=events)
