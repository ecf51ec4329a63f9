"""A JSON document read from a file with its long strings left on disk (an images API answer is mostly base64).

`load_spooled` parses the document with every string longer than `inline_limit` bytes moved to a temporary file
of its own and replaced by a placeholder (`SpooledStrings.file_of` maps it back), so parsing a 350 MB answer
holds a few MB, not three copies of it. `decode_base64_file` turns such a file into the image's bytes, in pieces.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import tempfile
from contextlib import ExitStack
from typing import Any, BinaryIO

CHUNK_BYTES = 1024 * 1024
INLINE_LIMIT = 64 * 1024
_SIMPLE_ESCAPE = re.compile(rb'\\(["\\/bfnrt])')
# JSON's one-character escapes; a \uXXXX escape is kept as written (base64 never needs one).
_ESCAPES = {ord('"'): b'"', ord("\\"): b"\\", ord("/"): b"/", ord("b"): b"\b", ord("f"): b"\f", ord("n"): b"\n",
            ord("r"): b"\r", ord("t"): b"\t"}


class SpooledStrings:
    """The files holding a document's long strings (unescaped), by placeholder; closes them all on `close`."""

    def __init__(self) -> None:
        self._marker = f"\u0000spooled-{secrets.token_hex(8)}-"
        self._files: dict[str, BinaryIO] = {}
        self._stack = ExitStack()

    def new(self) -> tuple[str, BinaryIO]:
        placeholder = f"{self._marker}{len(self._files)}"
        file: BinaryIO = self._stack.enter_context(tempfile.TemporaryFile())  # noqa: SIM115 - the stack closes it
        self._files[placeholder] = file
        return placeholder, file

    def file_of(self, value: Any) -> BinaryIO | None:
        """The file holding `value`'s string when `value` is a placeholder, at its start; else None."""
        file = self._files.get(value) if isinstance(value, str) else None
        if file is not None:
            file.seek(0)
        return file

    def close(self) -> None:
        self._stack.close()


class _Scanner:
    """Copies the document to `skeleton`, except long strings' contents, which go to files (see SpooledStrings)."""

    def __init__(self, strings: SpooledStrings, inline_limit: int) -> None:
        self.skeleton = bytearray()
        self._strings = strings
        self._limit = inline_limit
        self._in_string = False
        self._escape_pending = False
        self._inline = bytearray()  # the current string's raw bytes, while it is short
        self._file: BinaryIO | None = None
        self._placeholder = ""

    def feed(self, chunk: bytes) -> None:
        size = len(chunk)
        at = 0
        # Inside a string, the next quote and the next backslash at or after `at` (`size`: none left in the chunk;
        # -1: not looked for yet). bytes.find runs at memory speed where a regex scans a 3 MB base64 string 60 times
        # slower; each position is looked for again only once `at` has passed it, so a chunk is scanned once.
        quote_at = backslash_at = -1
        while at < size:
            if not self._in_string:
                quote = chunk.find(b'"', at)
                if quote < 0:
                    self.skeleton += chunk[at:]
                    return
                self.skeleton += chunk[at:quote + 1]
                self._in_string, self._inline, self._file = True, bytearray(), None
                at = quote + 1
                continue
            if self._escape_pending:
                self._escaped(chunk[at:at + 1])
                self._escape_pending = False
                at += 1
                continue
            if quote_at < at:
                quote_at = _find(chunk, b'"', at)
            if backslash_at < at:
                backslash_at = _find(chunk, b"\\", at)
            end = min(quote_at, backslash_at)
            piece = chunk[at:end]
            self._content(piece, piece)
            if end == size:
                return
            at = end + 1
            if end == backslash_at:
                self._escape_pending = True
            else:
                self._end_string()

    def _escaped(self, char: bytes) -> None:
        self._content(b"\\" + char, _ESCAPES.get(char[0], b"\\" + char))

    def _content(self, raw: bytes, unescaped: bytes) -> None:
        if self._file is None:
            self._inline += raw
            if len(self._inline) <= self._limit:
                return
            # Too long to keep: from here on the string is on disk, unescaped (its start re-read unescaped).
            placeholder, self._file = self._strings.new()
            self._placeholder = placeholder
            self._file.write(_SIMPLE_ESCAPE.sub(lambda found: _ESCAPES[found.group(1)[0]], bytes(self._inline)))
            self._inline = bytearray()
            return
        self._file.write(unescaped)

    def _end_string(self) -> None:
        if self._file is None:
            self.skeleton += self._inline
        else:
            self.skeleton += json.dumps(self._placeholder)[1:-1].encode()
        self.skeleton += b'"'
        self._in_string = False


def _find(chunk: bytes, byte: bytes, start: int) -> int:
    """Where `byte` first is in `chunk` from `start`; len(chunk) when it is not."""
    found = chunk.find(byte, start)
    return found if found >= 0 else len(chunk)


def load_spooled(body: BinaryIO, strings: SpooledStrings, inline_limit: int = INLINE_LIMIT) -> Any:
    """The JSON document in `body` (read from where it stands), long strings replaced by `strings` placeholders.

    Raises ValueError when it is not JSON."""
    scanner = _Scanner(strings, inline_limit)
    while chunk := body.read(CHUNK_BYTES):
        scanner.feed(chunk)
    return json.loads(bytes(scanner.skeleton))


def decode_base64_file(encoded: BinaryIO, into: BinaryIO) -> int:
    """Strict base64 from `encoded` into `into`, in pieces; the bytes written. Raises ValueError if not base64."""
    written = 0
    piece = CHUNK_BYTES - CHUNK_BYTES % 4  # whole quanta, so each piece decodes on its own
    while chunk := encoded.read(piece):
        try:
            written += into.write(base64.b64decode(chunk, validate=True))
        except binascii.Error as exc:
            raise ValueError(str(exc)) from exc
    return written
