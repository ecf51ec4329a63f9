"""Server-Sent Events parsing (retouch/providers/sse.py): as the SDKs read them, whatever the chunk boundaries."""

from __future__ import annotations

import pytest

from retouch.providers.sse import EventTooLarge, ServerSentEvent, parse_events

STREAM = (b"event: image_edit.partial_image\ndata: {\"a\":1}\n\n"
          b": a comment\r\n"
          b"id: 7\r\ndata: line one\r\ndata: line two\r\n\r\n"
          b"event: done\ndata: last")


@pytest.mark.parametrize("piece", [1, 3, 7, len(STREAM)])
def test_events_are_read_whole_whatever_the_chunks(piece: int) -> None:
    # Given a stream cut into pieces of any size
    chunks = [STREAM[i:i + piece] for i in range(0, len(STREAM), piece)]
    # When it is parsed
    events = list(parse_events(chunks, max_event_bytes=1000))
    # Then each event has its name, its data lines joined, its id; comments are skipped; the unterminated last counts
    assert events == [ServerSentEvent("image_edit.partial_image", '{"a":1}'),
                      ServerSentEvent(None, "line one\nline two", "7"),
                      ServerSentEvent("done", "last")]


def test_an_event_over_the_bound_is_refused_before_it_is_held_whole() -> None:
    # Given one data line longer than the bound, arriving in pieces
    chunks = [b"data: " + b"x" * 600, b"x" * 600, b"\n\n"]
    # When it is parsed, Then it is refused
    with pytest.raises(EventTooLarge):
        list(parse_events(chunks, max_event_bytes=1000))
