"""The worker-side failures that carry a stable code share one base, so code that records or maps them needs one
`except CodedError` and reads `.code` and `.message` the same way on each."""

from __future__ import annotations

import pytest

from retouch.errors import CodedError, JobFailure, RetouchError
from retouch.outbound_http.url_fetch import UrlFetchError
from retouch.outbound_http.url_safety import UnsafeUrl
from retouch.providers.base import ProviderError, ProviderRefused, ProviderUnavailable


@pytest.mark.parametrize("kind", [JobFailure, ProviderError, ProviderRefused, ProviderUnavailable, UrlFetchError,
                                  UnsafeUrl])
def test_each_coded_failure_carries_its_code_and_message_on_one_base(kind: type[CodedError]) -> None:
    error = kind("some_code", "What went wrong.")

    assert isinstance(error, CodedError) and not isinstance(error, RetouchError)
    assert (error.code, error.message, str(error)) == ("some_code", "What went wrong.", "What went wrong.")
