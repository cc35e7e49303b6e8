"""Media types and Accept negotiation for DICOMweb (PS3.18 §8.7): parse an ``Accept`` header or
the ``accept`` query parameter into media ranges, and pick which of an endpoint's offers to send.

DICOMweb leans on two parameters beyond RFC 9110: ``type`` names the media type of the parts of a
``multipart/related`` body (``multipart/related; type="application/dicom"``) and
``transfer-syntax`` asks for a transfer syntax UID (``*`` meaning "as stored"). Both take part in
matching; every other parameter is kept but ignored. Malformed text raises :class:`BadMediaType`,
which the HTTP edge answers with 400.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

__all__ = [
    "ANY",
    "BadMediaType",
    "Choice",
    "MediaRange",
    "Offer",
    "negotiate",
    "parse_accept",
    "parse_media_type",
]

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_QVALUE = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
# A form-decoded query string turns the "+" of "application/dicom+json" into a space.
_QUERY_PLUS = re.compile(r"(?<=[A-Za-z0-9.\-])[ ](?=[A-Za-z0-9.\-])")


class BadMediaType(ValueError):
    """An Accept header, accept query parameter or Content-Type that does not parse."""


def _wildcard_match(pattern: tuple[str, str], type_: str, subtype: str) -> bool:
    if pattern[0] == "*":
        return True
    return pattern[0] == type_ and pattern[1] in ("*", subtype)


def _split_type(text: str) -> tuple[str, str] | None:
    """``(type, subtype)`` lower-cased, or None when ``text`` is not ``token/token``."""
    type_, slash, subtype = text.strip().partition("/")
    if not slash or not _TOKEN.fullmatch(type_) or not _TOKEN.fullmatch(subtype):
        return None
    type_, subtype = type_.lower(), subtype.lower()
    if type_ == "*" and subtype != "*":
        return None
    return type_, subtype


@attrs.frozen(kw_only=True)
class MediaRange:
    """One element of an Accept list, or a parsed Content-Type (then ``q`` is 1 and unused).

    ``type`` and ``subtype`` are lower-cased; parameter names are lower-cased, values are as sent
    with surrounding quotes and escapes removed. ``q`` is not among ``params``.
    """

    type: str
    subtype: str
    params: tuple[tuple[str, str], ...] = ()
    q: float = 1.0

    @property
    def media_type(self) -> str:
        return f"{self.type}/{self.subtype}"

    def param(self, name: str) -> str | None:
        """The first value of parameter ``name`` (any case), or None."""
        name = name.lower()
        return next((value for key, value in self.params if key == name), None)

    def matches(self, type: str, subtype: str) -> bool:
        """Whether this range covers ``type/subtype`` (``*/*`` and ``image/*`` are wildcards)."""
        return _wildcard_match((self.type, self.subtype), type.lower(), subtype.lower())

    @property
    def part_type(self) -> tuple[str, str] | None:
        """The ``type`` parameter as ``(type, subtype)`` lower-cased, or None when absent or
        not a media type (then it matches no offer)."""
        value = self.param("type")
        return None if value is None else _split_type(value)

    @property
    def specificity(self) -> int:
        """0 for ``*/*`` up to 4 for ``multipart/related; type="application/dicom"``: one point
        for each of type and subtype that is not a wildcard, in the range and in its ``type``."""
        points = (self.type != "*") + (self.subtype != "*")
        part = self.part_type
        if part is not None:
            points += (part[0] != "*") + (part[1] != "*")
        return points

    def __str__(self) -> str:
        text = self.media_type
        for name, value in self.params:
            shown = value if _TOKEN.fullmatch(value) else _quote(value)
            text += f"; {name}={shown}"
        if self.q != 1.0:
            text += f"; q={self.q:g}"
        return text


ANY = MediaRange(type="*", subtype="*")


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _split(text: str, separator: str) -> list[str]:
    """``text`` split on ``separator`` where it is outside a quoted string."""
    pieces: list[str] = []
    start, quoted, escaped = 0, False, False
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif quoted:
            escaped = char == "\\"
            quoted = char != '"'
        elif char == '"':
            quoted = True
        elif char == separator:
            pieces.append(text[start:index])
            start = index + 1
    if quoted:
        raise BadMediaType(f"unterminated quoted string in {text.strip()!r}")
    pieces.append(text[start:])
    return pieces


def _param_value(raw: str, where: str) -> str:
    raw = raw.strip()
    if raw.startswith('"'):
        match = _QUOTED.fullmatch(raw)
        if match is None:
            raise BadMediaType(f"text after a quoted parameter value in {where!r}")
        return _ESCAPE.sub(r"\1", match.group(1))
    if not raw or any(char.isspace() or char in '"\\' for char in raw):
        raise BadMediaType(f"parameter value {raw!r} in {where!r} must be a token or quoted")
    return raw


def _qvalue(value: str, where: str) -> float:
    if not _QVALUE.fullmatch(value) or float(value) > 1.0:
        raise BadMediaType(f"q={value} in {where!r} is not a number from 0 to 1")
    return float(value)


def _parse_one(text: str, *, accept: bool) -> MediaRange:
    where = text.strip()
    head, *segments = _split(text, ";")
    split = _split_type(head)
    if split is None or (not accept and "*" in split):
        kind = "media range" if accept else "media type"
        raise BadMediaType(f"{head.strip()!r} is not a {kind} (type/subtype) in {where!r}")
    params: list[tuple[str, str]] = []
    q: float | None = None
    for segment in segments:
        if not segment.strip():
            continue
        name, equals, raw = segment.partition("=")
        name = name.strip().lower()
        if not equals or not _TOKEN.fullmatch(name):
            raise BadMediaType(f"parameter {segment.strip()!r} in {where!r} is not name=value")
        value = _param_value(raw, where)
        if accept and name == "q":
            if q is not None:
                raise BadMediaType(f"more than one q parameter in {where!r}")
            q = _qvalue(value, where)
        else:
            params.append((name, value))
    return MediaRange(
        type=split[0], subtype=split[1], params=tuple(params), q=1.0 if q is None else q
    )


def parse_accept(header: str | None, *, from_query: bool = False) -> list[MediaRange]:
    """The media ranges of an Accept header, in the order sent; ``[ANY]`` when absent or empty.

    With ``from_query`` the text is a URL-decoded ``accept`` query parameter (join repeated
    parameters with ","): a space between two name characters is read back as the "+" that form
    decoding turned into it. Raises :class:`BadMediaType`.
    """
    text = (header or "").strip()
    if from_query:
        text = _QUERY_PLUS.sub("+", text)
    ranges = [_parse_one(piece, accept=True) for piece in _split(text, ",") if piece.strip()]
    return ranges or [ANY]


def parse_media_type(text: str) -> MediaRange:
    """A Content-Type value: no wildcards, and ``q`` is an ordinary parameter.

    Raises :class:`BadMediaType`."""
    if not text.strip():
        raise BadMediaType("empty media type")
    return _parse_one(text, accept=False)


def _lower(value: str) -> str:
    return value.lower()


def _lower_optional(value: str | None) -> str | None:
    return None if value is None else value.lower()


def _frozen_optional(value: Iterable[str] | None) -> frozenset[str] | None:
    if isinstance(value, str):
        raise TypeError("Offer.transfer_syntaxes takes a collection of UIDs, not one string")
    return None if value is None else frozenset(value)


def _concrete_type(_: object, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and (_split_type(value) is None or "*" in value):
        raise ValueError(f"Offer.{attribute.name} {value!r} is not a concrete type/subtype")


@attrs.frozen
class Offer:
    """A representation an endpoint can produce: ``Offer("application/dicom+json")`` or
    ``Offer("multipart/related", part_type="application/dicom", transfer_syntaxes={...})``.

    ``transfer_syntaxes`` limits which ``transfer-syntax`` values it satisfies; None means any
    (the caller then deals with whatever the chosen range asks for).
    """

    media_type: str = attrs.field(converter=_lower, validator=_concrete_type)
    part_type: str | None = attrs.field(
        default=None, kw_only=True, converter=_lower_optional, validator=_concrete_type
    )
    transfer_syntaxes: frozenset[str] | None = attrs.field(
        default=None, kw_only=True, converter=_frozen_optional
    )

    @property
    def content_type(self) -> str:
        """The Content-Type to answer with, before any boundary or transfer-syntax."""
        if self.part_type is None:
            return self.media_type
        return f'{self.media_type}; type="{self.part_type}"'

    def accepted_by(self, media_range: MediaRange) -> bool:
        """Whether ``media_range`` covers this offer: its type, its ``type`` parameter (when it
        has one; then the offer must have a part type it covers) and its ``transfer-syntax``."""
        type_, _, subtype = self.media_type.partition("/")
        if not media_range.matches(type_, subtype):
            return False
        if media_range.param("type") is not None:
            wanted = media_range.part_type
            if wanted is None or self.part_type is None:
                return False
            if not _wildcard_match(wanted, *self.part_type.split("/", 1)):
                return False
        syntax = media_range.param("transfer-syntax")
        if syntax is None or syntax == "*" or self.transfer_syntaxes is None:
            return True
        return syntax in self.transfer_syntaxes


@attrs.frozen(kw_only=True)
class Choice:
    """The offer to send and the media range that selected it."""

    offer: Offer
    media_range: MediaRange

    @property
    def transfer_syntax(self) -> str | None:
        """The range's ``transfer-syntax`` as sent (``*`` means as stored), or None if absent."""
        return self.media_range.param("transfer-syntax")


def _deciding_range(ranges: Sequence[MediaRange], offer: Offer) -> MediaRange | None:
    """The most specific range covering ``offer``; among equally specific ones the highest q,
    then the first sent. Its q is the offer's q, so ``*/*, image/png;q=0`` refuses PNG."""
    covering = [media_range for media_range in ranges if offer.accepted_by(media_range)]
    if not covering:
        return None
    return max(covering, key=lambda media_range: (media_range.specificity, media_range.q))


def negotiate(ranges: Sequence[MediaRange], offers: Sequence[Offer]) -> Choice | None:
    """The offer to send: highest q, then most specific range, then earliest offer (so list the
    resource's default first). None when nothing is acceptable: answer 406."""
    best: Choice | None = None
    best_key: tuple[float, int, int] | None = None
    for index, offer in enumerate(offers):
        media_range = _deciding_range(ranges, offer)
        if media_range is None or media_range.q <= 0:
            continue
        key = (media_range.q, media_range.specificity, -index)
        if best_key is None or key > best_key:
            best, best_key = Choice(offer=offer, media_range=media_range), key
    return best
