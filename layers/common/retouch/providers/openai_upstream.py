"""OpenAI's images API (or any server speaking it, like the local stand-in) as an upstream: the synchronous
`ImageProvider` port behind the upstream contract, so routing treats it like every other adapter."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from retouch.providers import capabilities
from retouch.providers.base import ImageProvider, InputImage
from retouch.providers.upstream import (
    Finished,
    Outcome,
    PollHandle,
    bad_response,
    check,
)
from retouch.providers.upstream_http import elapsed_ms

CAPABILITIES = capabilities.OPENAI


class ImageProviderUpstream:
    """An UpstreamAdapter over a synchronous ImageProvider (edit/generate answer at once)."""

    capabilities = CAPABILITIES

    def __init__(self, provider: ImageProvider, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._provider = provider
        self._clock = clock

    def submit(self, *, images: list[InputImage], mask: InputImage | None, options: dict[str, Any]) -> Outcome:
        check(self.capabilities, operation="edit" if images else "generation", images=images, mask=mask,
              options=options)
        started = self._clock()
        if images:
            result = self._provider.edit(images=images, mask=mask, options=options)
        else:
            result = self._provider.generate(options=options)
        return Finished(result=result, upstream=self.capabilities.upstream, upstream_job_id=None, cost_micros=None,
                        latency_ms=elapsed_ms(started, self._clock))

    def poll(self, handle: PollHandle) -> Outcome:
        raise bad_response(self.capabilities.upstream, "a synchronous upstream has no job to poll")
