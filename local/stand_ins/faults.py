"""The fault language every stand-in understands: directives inside the prompt, counted per prompt.

Faults are asked for inside the prompt, so concurrent tests do not interfere:

    [fault:500x2]          the first 2 calls with this exact prompt get HTTP 500, later ones succeed
    [fault:503x1]          ... HTTP 503 (the provider is overloaded or down)
    [fault:429x1]          ... HTTP 429 with `Retry-After: 1`
    [fault:timeoutx1]      ... hang `hang_seconds` first (past the worker's provider timeout), then answer
    [fault:slowx1]         ... take `slow_seconds` longer first (within the provider timeout), then answer
    [fault:safety]         always a refusal by the provider's safety system
    [fault:invalid_image]  always a refusal of the input image
    [fault:500]            always HTTP 500 (any kind without `xN` applies to every call)
    [fault:modelslab:503]  ... only at the named upstream's stand-in (openai, azure_openai, aiml, modelslab, oxen,
                           runflow, fal); the others ignore it. Without a name a directive applies at every stand-in.

Several directives apply in order: `[fault:500x1][fault:429x1]` fails the first call with 500, the second with
429, and lets the third through. Calls are counted per full prompt text, by each stand-in on its own (so
`[fault:modelslab:503][fault:runflow:503]` makes a job routed ModelsLab -> Runflow -> OpenAI end at OpenAI).
Each wire format renders the refusals its own way; the two delays are the same for all.
"""

from __future__ import annotations

import re
import threading

_DIRECTIVE = re.compile(r"\[fault:(?:([a-z_]+):)?(500|503|429|timeout|slow|safety|invalid_image)(?:x(\d+))?\]")


class FaultCounter:
    """Which fault, if any, the next call with a prompt gets at the stand-in of `upstream`; thread-safe."""

    def __init__(self, upstream: str = "") -> None:
        self.upstream = upstream
        self._lock = threading.Lock()
        self._attempts: dict[str, int] = {}

    def next_fault(self, prompt: str) -> str | None:
        """The kind (`500`, `503`, `429`, `timeout`, `slow`, `safety`, `invalid_image`) for this call, or None."""
        directives = [(kind, count) for target, kind, count in _DIRECTIVE.findall(prompt)
                      if target in ("", self.upstream)]
        if not directives:
            return None
        with self._lock:
            attempt = self._attempts.get(prompt, 0)
            self._attempts[prompt] = attempt + 1
        start = 0
        for kind, count in directives:
            if not count or attempt < start + int(count):
                return str(kind)
            start += int(count)
        return None

    def reset(self) -> None:
        with self._lock:
            self._attempts.clear()
