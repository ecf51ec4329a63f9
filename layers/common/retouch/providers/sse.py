"""Server-Sent Events read off an upstream's streamed answer (OpenAI's `stream=true`), per the WHATWG parsing rules
the SDKs follow: `event:`/`data:`/`id:` fields, multi-line data joined by newlines, a blank line ending each event,
comments (`:`) ignored. Bounded: an event larger than `max_event_bytes` is refused, so a runaway stream cannot fill
the worker's memory."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class ServerSentEvent:
    event: str | None
    data: str
    id: str | None = None


class EventTooLarge(ValueError):
    pass


def parse_events(chunks: Iterable[bytes], *, max_event_bytes: int) -> Iterator[ServerSentEvent]:
    """The events in a byte stream, each as soon as its blank line arrives. Lines are gathered in one growing buffer
    (a partial image is megabytes of base64 on one line, arriving in small chunks)."""
    buffer = bytearray()
    scanned = 0  # how much of `buffer` holds no newline
    fields = _Fields(max_event_bytes)
    for chunk in chunks:
        buffer.extend(chunk)
        while (end := buffer.find(b"\n", scanned)) >= 0:
            line = bytes(buffer[:end]).rstrip(b"\r").decode("utf-8")
            del buffer[:end + 1]
            scanned = 0
            event = fields.take(line)
            if event is not None:
                yield event
        scanned = len(buffer)
        if scanned > max_event_bytes:
            raise EventTooLarge(f"an event is larger than {max_event_bytes} bytes")
    if buffer:
        fields.take(bytes(buffer).decode("utf-8"))
    last = fields.take("")
    if last is not None:
        yield last


class _Fields:
    """The event being read: its fields so far."""

    def __init__(self, max_bytes: int) -> None:
        self._max = max_bytes
        self._reset()

    def _reset(self) -> None:
        self.event: str | None = None
        self.data: list[str] = []
        self.id: str | None = None
        self.size = 0

    def take(self, line: str) -> ServerSentEvent | None:
        """Read one line; the finished event when the line is blank and ends one."""
        if not line:
            done = ServerSentEvent(self.event, "\n".join(self.data), self.id) if self.data else None
            self._reset()
            return done
        self.size += len(line)
        if self.size > self._max:
            raise EventTooLarge(f"an event is larger than {self._max} bytes")
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self.event = value
        elif name == "data":
            self.data.append(value)
        elif name == "id":
            self.id = value
        return None
