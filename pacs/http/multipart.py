"""Streaming ``multipart/related`` bodies (RFC 2046 §5.1, RFC 2387) for WADO-RS answers and
STOW-RS requests: a writer that yields the body chunk by chunk, and an incremental reader that
turns whatever chunks arrive into part events while holding little more than one chunk.

Errors raise :class:`BadMultipart` (answer 400) or its subclass :class:`PartTooLarge` (413).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from enum import Enum
from typing import TypeAlias

import attrs

from pacs.http.mediatypes import BadMediaType, MediaRange, parse_media_type

__all__ = [
    "BadMultipart",
    "Event",
    "MultipartReader",
    "Part",
    "PartData",
    "PartEnd",
    "PartStart",
    "PartTooLarge",
    "boundary_of",
    "encode_parts",
    "new_boundary",
    "part_type_of",
    "write_parts",
]

CRLF = b"\r\n"
# RFC 2046 boundary characters, for boundaries this server makes; boundaries it reads may be
# any visible ASCII (some clients stray from the list), up to a sanity limit.
_BCHARS = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
_READABLE = re.compile(r"[\x20-\x7e]{0,199}[\x21-\x7e]")
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_LINE_END = re.compile(r"\r?\n")
_MAX_PADDING = 256  # spaces allowed between a boundary and its CRLF


class BadMultipart(ValueError):
    """A multipart body or its Content-Type is malformed."""


class PartTooLarge(BadMultipart):
    """A part is larger than the reader's ``max_part_bytes``."""


def _check_boundary(boundary: str) -> None:
    if not _BCHARS.fullmatch(boundary):
        raise BadMultipart(
            f"boundary {boundary!r} must be 1 to 70 letters, digits or '()+_,-./:=? "
            "and not end with a space"
        )


def _check_readable(boundary: str) -> None:
    if not _READABLE.fullmatch(boundary):
        raise BadMultipart(
            f"boundary {boundary!r} must be 1 to 200 visible ASCII characters or spaces "
            "and not end with a space"
        )


def _content_type(content_type: str) -> MediaRange:
    try:
        return parse_media_type(content_type)
    except BadMediaType as exc:
        raise BadMultipart(f"Content-Type: {exc}") from exc


def boundary_of(content_type: str) -> str:
    """The ``boundary`` parameter of a ``multipart/*`` Content-Type, quoted or not."""
    media_type = _content_type(content_type)
    if media_type.type != "multipart":
        raise BadMultipart(f"Content-Type {media_type.media_type!r} is not multipart")
    boundary = media_type.param("boundary")
    if boundary is None:
        raise BadMultipart(f"Content-Type {content_type.strip()!r} has no boundary parameter")
    _check_readable(boundary)
    return boundary


def part_type_of(content_type: str) -> str | None:
    """The ``type`` parameter (the parts' media type) lower-cased, or None when absent."""
    value = _content_type(content_type).param("type")
    return None if value is None else value.strip().lower()


def new_boundary() -> str:
    """A random boundary that no DICOM payload will contain by chance."""
    return secrets.token_hex(16)


# -- writing -------------------------------------------------------------------------------


@attrs.frozen(kw_only=True, eq=False)
class Part:
    """One part to write: its headers, in order, and its payload as chunks."""

    headers: Sequence[tuple[str, str]]
    chunks: AsyncIterable[bytes]


def _encode_headers(headers: Sequence[tuple[str, str]]) -> bytes:
    lines = []
    for name, value in headers:
        if not _HEADER_NAME.fullmatch(name) or "\r" in value or "\n" in value:
            raise ValueError(f"invalid part header {name!r}: {value!r}")
        lines.append(f"{name}: {value}\r\n")
    return "".join(lines).encode("latin-1") + CRLF


def part_head(headers: Sequence[tuple[str, str]], boundary: str, *, first: bool) -> bytes:
    """What goes before a part's payload: the end of the previous part (unless ``first``), the
    delimiter and the part's headers."""
    dash = b"--" + boundary.encode("ascii")
    return (b"" if first else CRLF) + dash + CRLF + _encode_headers(headers)


def closing(boundary: str, *, first: bool) -> bytes:
    """The close delimiter (``first``: no part came before it)."""
    return (b"" if first else CRLF) + b"--" + boundary.encode("ascii") + b"--" + CRLF


async def write_parts(parts: AsyncIterable[Part], boundary: str) -> AsyncIterator[bytes]:
    """The body for ``parts``: one chunk per part head, the part's own chunks as they come, and
    the close delimiter. The payload is not searched for the boundary: use :func:`new_boundary`.
    """
    _check_boundary(boundary)
    first = True
    async for part in parts:
        yield part_head(part.headers, boundary, first=first)
        async for chunk in part.chunks:
            if chunk:
                yield chunk
        first = False
    yield closing(boundary, first=first)


def encode_parts(parts: Sequence[tuple[Sequence[tuple[str, str]], bytes]], boundary: str) -> bytes:
    """The whole body at once, for small answers and tests; same bytes as :func:`write_parts`."""
    _check_boundary(boundary)
    dash = b"--" + boundary.encode("ascii")
    pieces = [dash + CRLF + _encode_headers(headers) + data + CRLF for headers, data in parts]
    return b"".join(pieces) + dash + b"--" + CRLF


# -- reading -------------------------------------------------------------------------------


@attrs.frozen
class PartStart:
    """A part begins; header names are lower-cased, repeated headers joined with ", "."""

    headers: dict[str, str]

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


@attrs.frozen
class PartData:
    """The next bytes of the current part's payload (never empty)."""

    data: bytes


@attrs.frozen
class PartEnd:
    """The current part is complete."""


Event: TypeAlias = PartStart | PartData | PartEnd


class _State(Enum):
    PREAMBLE = "before the first boundary"
    HEADERS = "inside part headers"
    BODY = "inside a part"
    DONE = "after the close delimiter"


class _Tail(Enum):
    MORE = "need more bytes"
    DATA = "not a delimiter"
    NEXT = "a part follows"
    CLOSE = "close delimiter"


def _delimiter_tail(buf: bytearray, pos: int) -> tuple[_Tail, int]:
    """What the bytes at ``pos``, just after ``CRLF--boundary``, make of it, and where its line
    ends. The delimiter line is ``--`` (close) or optional spaces and CRLF."""
    if buf.startswith(b"--", pos):
        return _Tail.CLOSE, pos + 2
    if len(buf) == pos or (len(buf) == pos + 1 and buf[pos] == ord("-")):
        return _Tail.MORE, pos
    end = pos
    while end < len(buf) and buf[end] in b" \t":
        end += 1
    if end - pos > _MAX_PADDING:
        raise BadMultipart(f"more than {_MAX_PADDING} spaces after a boundary delimiter")
    rest = bytes(buf[end : end + 2])
    if rest == CRLF:
        return _Tail.NEXT, end + 2
    if rest in (b"", b"\r"):
        return _Tail.MORE, pos
    if rest[:1] == b"\n":
        raise BadMultipart("a boundary delimiter line ends with LF alone; CRLF is required")
    return _Tail.DATA, pos


def _partial_at_end(buf: bytearray, delimiter: bytes) -> int:
    """How many bytes at the end of ``buf`` could begin ``delimiter`` (which starts with CR and
    has no other CR, so only the last CR can start one)."""
    start = buf.rfind(b"\r", max(0, len(buf) - len(delimiter) + 1))
    if start < 0 or not delimiter.startswith(buf[start:]):
        return 0
    return len(buf) - start


def _parse_headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    last = ""
    for line in _LINE_END.split(block.decode("latin-1")):
        if line[:1] in (" ", "\t") and last:
            headers[last] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        name = name.strip().lower()
        if not colon or not _HEADER_NAME.fullmatch(name):
            raise BadMultipart(f"part header line {line!r} is not 'Name: value'")
        value = value.strip()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
        last = name
    return headers


class MultipartReader:
    """Incremental parser of one multipart body with a known boundary.

    :meth:`feed` each chunk as it arrives and handle the events it returns; call :meth:`finish`
    at the end of the body. Payload bytes are handed out as soon as they cannot belong to a
    delimiter, so memory stays near one chunk plus the boundary. The preamble and epilogue are
    skipped. After an exception the reader is unusable.
    """

    def __init__(
        self,
        boundary: str,
        *,
        max_part_bytes: int | None,
        max_header_bytes: int = 16384,
        max_preamble_bytes: int = 65536,
    ) -> None:
        _check_readable(boundary)
        self.boundary = boundary
        self.max_part_bytes = max_part_bytes
        self.max_header_bytes = max_header_bytes
        self.max_preamble_bytes = max_preamble_bytes
        self.parts = 0  # parts started so far
        self._delimiter = CRLF + b"--" + boundary.encode("ascii")
        # The CRLF before the first delimiter is optional: pretend the body began with one.
        self._buf = bytearray(CRLF)
        self._skipped = -len(CRLF)
        self._part_bytes = 0
        self._state = _State.PREAMBLE

    @property
    def done(self) -> bool:
        """Whether the close delimiter has been read."""
        return self._state is _State.DONE

    def feed(self, data: bytes) -> list[Event]:
        """The events completed by ``data``; raises BadMultipart or PartTooLarge."""
        events: list[Event] = []
        if self._state is _State.DONE:
            return events
        self._buf += data
        while self._step(events):
            pass
        return events

    def finish(self) -> None:
        """Check that the body ended with the close delimiter."""
        if self._state is _State.PREAMBLE:
            raise BadMultipart(
                f"the body has no boundary delimiter '--{self.boundary}': "
                "the boundary in Content-Type does not match the body"
            )
        if self._state is not _State.DONE:
            part = self.parts + (self._state is _State.HEADERS)
            raise BadMultipart(
                f"the body ended {self._state.value} (part {part}) without the close delimiter"
            )

    def _step(self, events: list[Event]) -> bool:
        """Advance as far as the buffer allows in the current state; False when stuck or done."""
        if self._state is _State.PREAMBLE:
            return self._preamble()
        if self._state is _State.HEADERS:
            return self._headers(events)
        if self._state is _State.BODY:
            return self._body(events)
        return False

    def _skip(self, count: int) -> None:
        del self._buf[:count]
        self._skipped += count
        if self._skipped > self.max_preamble_bytes:
            raise BadMultipart(
                f"no boundary delimiter '--{self.boundary}' in the first "
                f"{self.max_preamble_bytes} bytes: the boundary in Content-Type does not "
                "match the body"
            )

    def _emit(self, count: int, events: list[Event]) -> None:
        if count <= 0:
            return
        self._part_bytes += count
        if self.max_part_bytes is not None and self._part_bytes > self.max_part_bytes:
            raise PartTooLarge(f"part {self.parts} is larger than {self.max_part_bytes} bytes")
        events.append(PartData(bytes(self._buf[:count])))
        del self._buf[:count]

    def _after_delimiter(self, tail: _Tail, end: int) -> None:
        if tail is _Tail.CLOSE:
            self._state = _State.DONE
            self._buf.clear()
        else:
            del self._buf[:end]
            self._state = _State.HEADERS

    def _preamble(self) -> bool:
        at = self._buf.find(self._delimiter)
        if at < 0:
            self._skip(len(self._buf) - _partial_at_end(self._buf, self._delimiter))
            return False
        tail, end = _delimiter_tail(self._buf, at + len(self._delimiter))
        if tail is _Tail.MORE:
            self._skip(at)
            return False
        if tail is _Tail.DATA:
            self._skip(at + 1)
            return True
        self._after_delimiter(tail, end)
        return True

    def _headers(self, events: list[Event]) -> bool:
        buf = self._buf
        if buf.startswith(CRLF) or buf.startswith(b"\n"):
            block_end, body_start = 0, (2 if buf.startswith(CRLF) else 1)
        else:
            match = _BLANK_LINE.search(buf)
            if match is None:
                if len(buf) > self.max_header_bytes:
                    raise BadMultipart(self._headers_too_long())
                return False
            block_end, body_start = match.start(), match.end()
        if block_end > self.max_header_bytes:
            raise BadMultipart(self._headers_too_long())
        headers = _parse_headers(bytes(buf[:block_end])) if block_end else {}
        del buf[:body_start]
        self.parts += 1
        self._part_bytes = 0
        self._state = _State.BODY
        events.append(PartStart(headers))
        return True

    def _headers_too_long(self) -> str:
        return f"the headers of part {self.parts + 1} exceed {self.max_header_bytes} bytes"

    def _body(self, events: list[Event]) -> bool:
        at = self._buf.find(self._delimiter)
        if at < 0:
            self._emit(len(self._buf) - _partial_at_end(self._buf, self._delimiter), events)
            return False
        tail, end = _delimiter_tail(self._buf, at + len(self._delimiter))
        if tail is _Tail.MORE:
            self._emit(at, events)
            return False
        if tail is _Tail.DATA:
            self._emit(at + 1, events)
            return True
        self._emit(at, events)
        events.append(PartEnd())
        self._after_delimiter(tail, end - at)
        return True
