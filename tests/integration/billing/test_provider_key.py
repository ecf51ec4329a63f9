"""A provider secret still holding the template's `replace-me`: through the worker function, the job ends
`provider_auth_failed` on its first delivery, its hold released in full, and the alarm's metric is printed."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from retouch.observability import metric_names as names
from tests.integration.billing.conftest import seed
from tests.integration.billing.test_billing_settlement import CREDIT, assert_settled, submit
from tests.integration.core.aws_stack import PROVIDER_SECRET_VALUE, Stack, client, forget_cached_wiring


@pytest.fixture
def placeholder_key(fresh: Stack) -> Iterator[Stack]:
    secrets = client("secretsmanager")
    [arn] = [fresh.environments["WorkerFunction"]["RETOUCH_PROVIDER_SECRET_ARN"]]  # not the Stripe secret
    secrets.put_secret_value(SecretId=arn, SecretString="replace-me")
    forget_cached_wiring()  # the secret is cached per process, as in Lambda
    yield fresh
    secrets.put_secret_value(SecretId=arn, SecretString=PROVIDER_SECRET_VALUE)
    forget_cached_wiring()


def test_a_placeholder_key_fails_the_job_at_once_releases_its_hold_and_counts_for_the_alarm(
        placeholder_key: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a queued job while the provider secret is still the template's placeholder
    account_id = seed(placeholder_key, credit_micros=CREDIT)
    job_id = submit(placeholder_key, account_id, n=2)
    capsys.readouterr()

    # When the worker function receives its message once
    _message, response = placeholder_key.run_worker_once()

    # Then the job ended provider_auth_failed on that delivery (nothing left to retry), and nothing was charged
    assert response == {"batchItemFailures": []}
    item = placeholder_key.job_item(job_id)
    assert item["status"] == "failed" and item["error"]["code"] == names.PROVIDER_AUTH_FAILED
    assert_settled(placeholder_key, account_id, job_id, charged=0)
    # And the EMF line the ProviderAuthFailedAlarm reads was printed, without the key in any line
    output = capsys.readouterr().out
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any(line.get(names.JOBS_FAILED) == [1.0] or line.get(names.JOBS_FAILED) == 1.0
               for line in lines if line.get(names.ERROR_CODE) == names.PROVIDER_AUTH_FAILED)
    assert "replace-me" not in output.replace("such as replace-me", "")
