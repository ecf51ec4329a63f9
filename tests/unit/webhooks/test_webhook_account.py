"""Account webhook settings: secrets shown once, rotation windows, the default URL, the admin commands."""

from __future__ import annotations

import io

import pytest

from retouch.admin.webhooks_cli import add_webhook_commands, run
from retouch.models.common import now_epoch
from retouch.webhooks.account import ensure_secret, retire_old_secrets, rotate_secret, set_default_url, summary
from tests.fakes import FakeSettings
from tests.unit.webhooks.builders import new_account_id


def test_the_first_rotation_creates_the_only_secret():
    repo, account = FakeSettings(), new_account_id()
    secret = rotate_secret(repo, account)
    assert repo.get(account).signing_secrets(now_epoch()) == [secret]


def test_a_rotation_keeps_the_old_secret_signing_for_the_window_only():
    repo, account = FakeSettings(), new_account_id()
    old = rotate_secret(repo, account)
    new = rotate_secret(repo, account, window_seconds=3600)
    settings = repo.get(account)
    assert settings.signing_secrets(now_epoch()) == [new, old]
    assert settings.signing_secrets(now_epoch() + 3601) == [new]


def test_retiring_ends_the_window_now():
    repo, account = FakeSettings(), new_account_id()
    rotate_secret(repo, account)
    new = rotate_secret(repo, account)
    retire_old_secrets(repo, account)
    assert repo.get(account).signing_secrets(now_epoch()) == [new]


def test_ensure_secret_creates_one_only_when_missing():
    repo, account = FakeSettings(), new_account_id()
    assert ensure_secret(repo, account) is not None
    assert ensure_secret(repo, account) is None


def test_default_url_must_be_https_unless_allowlisted():
    repo, account = FakeSettings(), new_account_id()
    with pytest.raises(ValueError):
        set_default_url(repo, account, "http://hooks.example.com/")
    set_default_url(repo, account, "http://127.0.0.1:9000/h", allowlist=frozenset({"127.0.0.1"}))
    set_default_url(repo, account, "https://hooks.example.com/h")
    assert summary(repo, account).default_url == "https://hooks.example.com/h"


def cli(repo, *argv) -> tuple[int, str]:
    import argparse

    parser = argparse.ArgumentParser()
    add_webhook_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    out = io.StringIO()
    return run(args, "unused", out=out, repo=repo), out.getvalue()


def test_admin_set_url_shows_a_new_secret_once_and_show_never_does():
    repo, account = FakeSettings(), new_account_id()
    code, output = cli(repo, "webhooks", "set-url", account, "https://hooks.example.com/h")
    secret = repo.get(account).secrets[0].secret
    assert code == 0 and secret in output and "shown once" in output
    code, output = cli(repo, "webhooks", "show", account)
    assert code == 0 and secret not in output and "https://hooks.example.com/h" in output
    code, output = cli(repo, "webhooks", "set-url", account, "https://hooks.example.com/other")
    assert "whsec_" not in output


def test_admin_rotate_prints_the_new_secret():
    repo, account = FakeSettings(), new_account_id()
    code, output = cli(repo, "webhooks", "rotate-secret", account, "--window-hours", "1")
    assert code == 0 and repo.get(account).secrets[0].secret in output
    assert cli(repo, "webhooks", "set-url", account, "http://x.example/")[0] == 2


def test_admin_set_url_allows_http_only_to_a_host_given_with_allow_host(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the functions' allowlist set in the tool's environment (the tool does not read it: docs/webhooks.md)
    monkeypatch.setenv("RETOUCH_URL_ALLOWLIST", "127.0.0.1")
    repo, account = FakeSettings(), new_account_id()
    # When the operator sets an http URL to it, without and then with --allow-host
    refused = cli(repo, "webhooks", "set-url", account, "http://127.0.0.1:9000/h")
    allowed = cli(repo, "webhooks", "set-url", account, "http://127.0.0.1:9000/h", "--allow-host", "127.0.0.1")
    # Then only the flag lets it be stored
    assert refused[0] == 2 and allowed[0] == 0
    assert summary(repo, account).default_url == "http://127.0.0.1:9000/h"
