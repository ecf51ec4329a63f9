"""Choosing a job's webhook at submit: URL (or the account default), SSRF checks, events, the secret."""

from __future__ import annotations

import pytest

from retouch.errors import InvalidRequest, InvalidWebhookUrl, WebhookSecretMissing
from retouch.models.requests import GenerationRequest
from retouch.webhooks.subscribe import WebhookSubscriber
from tests.fakes import FakeSettings, public_resolver
from tests.unit.webhooks.builders import account_settings, new_account_id


def subscriber(*settings, ip: str = "93.184.216.34", allowlist=frozenset()) -> WebhookSubscriber:
    return WebhookSubscriber(settings=FakeSettings(*settings), allowlist=allowlist, resolve=public_resolver(ip))


def request(**fields) -> GenerationRequest:
    return GenerationRequest(prompt="a cat", **fields)


def test_no_url_anywhere_means_no_webhook():
    assert subscriber()(new_account_id(), request()) is None


def test_a_job_url_gets_the_three_terminal_events_by_default():
    account = new_account_id()
    webhook = subscriber(account_settings(account))(account, request(webhook_url="https://hooks.example.com/a"))
    assert webhook.url == "https://hooks.example.com/a"
    assert webhook.events == ["job.succeeded", "job.failed", "job.canceled"]


def test_chosen_events_are_kept_once_in_a_stable_order():
    account = new_account_id()
    webhook = subscriber(account_settings(account))(
        account, request(webhook_url="https://hooks.example.com/a", webhook_events="job.failed,job.started,job.failed"))
    assert webhook.events == ["job.started", "job.failed"]


def test_the_account_default_url_is_used_when_the_job_gives_none():
    account = new_account_id()
    settings = account_settings(account, default_url="https://hooks.example.com/default")
    assert subscriber(settings)(account, request()).url == "https://hooks.example.com/default"


def test_an_empty_event_list_opts_out_of_the_account_default():
    account = new_account_id()
    settings = account_settings(account, default_url="https://hooks.example.com/default")
    assert subscriber(settings)(account, request(webhook_events=[])) is None


def test_events_without_any_url_are_refused():
    with pytest.raises(InvalidRequest) as caught:
        subscriber()(new_account_id(), request(webhook_events=["job.started"]))
    assert caught.value.param == "webhook_events"


@pytest.mark.parametrize("url, ip", [
    ("https://hooks.example.com/", "10.1.2.3"),
    ("https://hooks.example.com/", "169.254.169.254"),
    ("https://hooks.example.com/", "192.168.0.1"),
    ("https://localhost/", "127.0.0.1"),
    ("https://[fe80::1]/", "93.184.216.34"),
    ("http://hooks.example.com/", "93.184.216.34"),
    ("ftp://hooks.example.com/", "93.184.216.34"),
    ("https://user:pw@hooks.example.com/", "93.184.216.34"),
    ("not a url", "93.184.216.34"),
])
def test_unsafe_urls_are_refused_400_invalid_webhook_url(url, ip):
    account = new_account_id()
    with pytest.raises(InvalidWebhookUrl) as caught:
        subscriber(account_settings(account), ip=ip)(account, request(webhook_url=url))
    assert caught.value.status_code == 400 and caught.value.code == "invalid_webhook_url"
    assert caught.value.param == "webhook_url"


def test_an_allowlisted_loopback_receiver_is_accepted_over_http():
    account = new_account_id()
    subscribe = subscriber(account_settings(account), allowlist=frozenset({"127.0.0.1"}))
    assert subscribe(account, request(webhook_url="http://127.0.0.1:9000/h")).url == "http://127.0.0.1:9000/h"


def test_an_unsafe_account_default_is_refused_too():
    account = new_account_id()
    settings = account_settings(account, default_url="https://hooks.example.com/default")
    with pytest.raises(InvalidWebhookUrl) as caught:
        subscriber(settings, ip="10.0.0.1")(account, request())
    assert "default webhook URL" in caught.value.message


def test_an_account_without_a_signing_secret_cannot_subscribe():
    with pytest.raises(WebhookSecretMissing):
        subscriber()(new_account_id(), request(webhook_url="https://hooks.example.com/a"))


def test_webhook_fields_never_reach_the_provider():
    options = request(webhook_url="https://hooks.example.com/a", webhook_events=["job.started"]).provider_options()
    assert "webhook_url" not in options and "webhook_events" not in options


def test_a_name_server_that_never_answers_is_a_400_not_a_hung_submit():
    # Given DNS that never answers (the lookup blocks until the test releases it)
    import threading

    from retouch.outbound_http.url_safety import resolve_within
    from retouch.webhooks.subscribe import vet_webhook_url

    released = threading.Event()

    def hang(host, port, *args, **kwargs):
        released.wait(30)
        return []

    try:
        # When a webhook URL is vetted with a bounded lookup
        with pytest.raises(InvalidWebhookUrl) as refused:
            vet_webhook_url("https://hooks.example.com/a", allowlist=frozenset(), resolve=resolve_within(0.2, hang))
    finally:
        released.set()

    # Then the submit gets 400 invalid_webhook_url instead of waiting on the name server
    assert "could not be resolved" in refused.value.message
