"""load_spooled: the document json.loads would give, with long strings moved to files (unescaped), however the body
is cut into reads and however many escapes a string holds."""

from __future__ import annotations

import base64
import io
import json
import random
from typing import Any

import pytest

from retouch.providers.spooled_json import SpooledStrings, load_spooled

LIMIT = 16  # a small inline limit, so short documents already spool their strings (keys stay shorter)


class Trickle(io.RawIOBase):
    """A body whose reads return at most `most` bytes: every boundary (an escape's two bytes, a quote) gets cut."""

    def __init__(self, data: bytes, most: int) -> None:
        self._data, self._most, self._at = data, most, 0

    def read(self, size: int = -1) -> bytes:
        size = self._most if size < 0 else min(size, self._most)
        piece = self._data[self._at:self._at + size]
        self._at += len(piece)
        return piece


def restored(value: Any, strings: SpooledStrings) -> Any:
    """`value` with every placeholder replaced by its file's text."""
    file = strings.file_of(value)
    if file is not None:
        return file.read().decode()
    if isinstance(value, dict):
        return {key: restored(item, strings) for key, item in value.items()}
    if isinstance(value, list):
        return [restored(item, strings) for item in value]
    return value


def parsed(document: bytes, most: int) -> Any:
    strings = SpooledStrings()
    try:
        return restored(load_spooled(Trickle(document, most), strings, inline_limit=LIMIT), strings)
    finally:
        strings.close()


ESCAPE_HEAVY = {
    "short": 'a"b\\c',
    "long": ('line\n\t"quoted" \\ back/slash ' * 40),
    "escapes": '\\"' * 300,
    "raw utf-8": "snow \u2603 and tab\t",  # sent as UTF-8 (a \\uXXXX escape is kept as written; base64 has none)
    "nested": [{"b64_json": base64.b64encode(bytes(range(256)) * 8).decode()}, "x" * 100, 3, None, True],
}


@pytest.mark.parametrize("most", [1, 2, 3, 7, 64, 1 << 20])
def test_any_cut_of_the_body_parses_as_json_loads_does_with_long_strings_unescaped_in_files(most: int) -> None:
    document = json.dumps(ESCAPE_HEAVY, ensure_ascii=False).encode()
    assert parsed(document, most) == json.loads(document)


def test_random_documents_with_escapes_parse_as_json_loads_does() -> None:
    chooser = random.Random(7)
    alphabet = 'ab"\\/\n\t\b\f\r xyz\u00e9'
    for _ in range(200):
        strings = ["".join(chooser.choice(alphabet) for _ in range(chooser.randrange(0, 80))) for _ in range(4)]
        document = json.dumps({"data": strings, "n": len(strings)}, ensure_ascii=False).encode()
        assert parsed(document, chooser.randrange(1, 40)) == json.loads(document)


def test_a_string_of_many_escapes_far_from_its_closing_quote_is_scanned_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Each escape must not send the search for the quote all the way to it again (quadratic: 100,000 escapes
    would scan 10^10 bytes): the bytes searched stay within twice the document."""
    from retouch.providers import spooled_json

    searched = 0
    find = spooled_json._find

    def counting(chunk: bytes, byte: bytes, start: int) -> int:
        nonlocal searched
        found = find(chunk, byte, start)
        searched += found - start
        return found

    monkeypatch.setattr(spooled_json, "_find", counting)
    document = b'{"s": "' + b"\\n" * 100_000 + b'"}'
    assert parsed(document, 1 << 20) == {"s": "\n" * 100_000}
    assert searched <= 2 * len(document)
