"""One in-process stack for the console function's tests (as tests/integration/core's), package-scoped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.core.aws_stack import Stack, running_stack


@pytest.fixture(scope="package")
def stack(_fake_aws_credentials: None) -> Iterator[Stack]:
    with running_stack() as running:
        yield running
