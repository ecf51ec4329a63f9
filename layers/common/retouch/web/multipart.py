"""A small, binary-safe multipart/form-data parser (what the OpenAI SDK and curl -F send)."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from email.utils import collapse_rfc2231_value

from retouch.errors import InvalidRequest


@dataclass(frozen=True)
class Part:
    name: str
    data: bytes
    filename: str | None
    content_type: str | None

    @property
    def is_file(self) -> bool:
        return self.filename is not None


def _header_params(value: str) -> Message:
    message = Message()
    message["content-type"] = value
    return message


def boundary_of(content_type: str) -> str:
    boundary = _header_params(content_type).get_param("boundary")
    if not boundary or not isinstance(boundary, str):
        raise InvalidRequest("multipart/form-data needs a boundary in Content-Type.", code="invalid_multipart")
    return boundary


def _parse_headers(blob: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in blob.decode("utf-8", "replace").split("\r\n"):
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers


def parse_multipart(body: bytes, content_type: str) -> list[Part]:
    delimiter = b"--" + boundary_of(content_type).encode()
    sections = body.split(delimiter)
    if len(sections) < 3:
        raise InvalidRequest("The multipart body is malformed.", code="invalid_multipart")
    parts: list[Part] = []
    for section in sections[1:]:
        if section.startswith(b"--"):
            return parts
        if not section.startswith(b"\r\n"):
            raise InvalidRequest("The multipart body is malformed.", code="invalid_multipart")
        head, sep, content = section[2:].partition(b"\r\n\r\n")
        if not sep:
            raise InvalidRequest("A multipart part has no header block.", code="invalid_multipart")
        if content.endswith(b"\r\n"):
            content = content[:-2]
        headers = _parse_headers(head)
        disposition = _header_params("form-data; " + headers.get("content-disposition", "").partition(";")[2])
        raw_name, raw_filename = disposition.get_param("name"), disposition.get_param("filename")
        name = collapse_rfc2231_value(raw_name) if raw_name else ""
        if not name:
            raise InvalidRequest("A multipart part has no name.", code="invalid_multipart")
        filename = collapse_rfc2231_value(raw_filename) if raw_filename is not None else None
        parts.append(Part(name=name, data=content, filename=filename, content_type=headers.get("content-type")))
    raise InvalidRequest("The multipart body has no closing boundary.", code="invalid_multipart")
