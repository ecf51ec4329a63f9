"""Integration tier: real handlers and real boto3 against moto, never real AWS.

Fake credentials and region are set for the whole session before anything builds a boto3 client, and
a developer's ~/.aws (profiles, SSO, endpoint overrides) is kept out.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from local.aws import cognito_codes, dynamodb_atomicity, s3_copy_conditions

# In-process moto too keeps DynamoDB atomic and honours ClientRequestToken, as DynamoDB does (see the module), and
# refuses a copy whose source changed, as S3 does.
dynamodb_atomicity.install()
s3_copy_conditions.install()
cognito_codes.install()  # sign-up codes e-mailed into moto's SES and checked, as Cognito does

_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
_AWS_UNSET = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SQS",
              "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SECRETS_MANAGER")


@pytest.fixture(scope="session", autouse=True)
def _fake_aws_credentials() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in _AWS_ENVIRONMENT.items():
            patch.setenv(name, value)
        for name in _AWS_UNSET:
            patch.delenv(name, raising=False)
        yield
