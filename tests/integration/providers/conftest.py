"""A FakeProvider on 127.0.0.1 shared by the provider integration tests (unique prompts per test)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from local.stand_ins import FakeProvider


@pytest.fixture(scope="module")
def fake_provider() -> Iterator[FakeProvider]:
    fake = FakeProvider(delay=0, hang_seconds=5.0).start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def unique_prompt() -> Callable[[str], str]:
    """A prompt no other test uses, so per-prompt fault counters never collide."""
    return lambda text: f"{text} ({uuid.uuid4().hex[:12]})"
