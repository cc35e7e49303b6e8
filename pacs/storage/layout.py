"""Directory layout templates, e.g. ``{StudyDate:%Y}/{StudyInstanceUID}/{SOPInstanceUID}.dcm``.

A template is checked once (`compile_layout`) and then renders relative paths from level values.
Values never reach the path raw unless they are valid UIDs or plainly safe tokens."""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Mapping

import attrs

from pacs.model.uids import path_token, path_token_for_uid

UID_FIELDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")
TOKEN_FIELDS = ("PatientID", "Modality")
DATE_FIELDS = ("StudyDate",)
DATE_CODES = {"%Y": "0000", "%m": "00", "%d": "00", "%y": "00", "%j": "000"}
LITERAL_RE = re.compile(r"^[A-Za-z0-9._/-]*$")
FORMAT_RE = re.compile(r"^(%[Ymdyj]|[0-9_-])*$")


class LayoutError(ValueError):
    """The template is not usable; the message says why."""


@attrs.frozen
class _Part:
    literal: str
    field: str | None
    spec: str


@attrs.frozen
class Layout:
    template: str
    parts: tuple[_Part, ...]

    def render(self, values: Mapping[str, str | dt.date | None]) -> str:
        out: list[str] = []
        for part in self.parts:
            out.append(part.literal)
            if part.field is not None:
                out.append(_render_field(part.field, part.spec, values.get(part.field)))
        return "".join(out)


def _render_field(name: str, spec: str, value: str | dt.date | None) -> str:
    if name in DATE_FIELDS:
        if isinstance(value, dt.date):
            return value.strftime(spec or "%Y%m%d")
        text = spec or "%Y%m%d"
        for code, zeros in DATE_CODES.items():
            text = text.replace(code, zeros)
        return text
    raw = str(value or "")
    if name in UID_FIELDS:
        return path_token_for_uid(raw) if raw else "unknown"
    return path_token(raw) if raw else "unknown"


def _check_literal(literal: str) -> None:
    if not LITERAL_RE.match(literal):
        raise LayoutError(f"layout text {literal!r} may only hold letters, digits, . _ - and /")


def compile_layout(template: str) -> Layout:
    """Parse and check a layout template; raise LayoutError explaining the first problem."""
    parts: list[_Part] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise LayoutError(f"layout is not a valid template: {exc}") from exc
    for literal, field, spec, conversion in parsed:
        _check_literal(literal)
        if field is not None:
            if field not in (*UID_FIELDS, *TOKEN_FIELDS, *DATE_FIELDS) or conversion:
                known = ", ".join((*DATE_FIELDS, *UID_FIELDS, *TOKEN_FIELDS))
                raise LayoutError(f"layout field {{{field}}} is not one of {known}")
            if spec and (field not in DATE_FIELDS or not FORMAT_RE.match(spec)):
                raise LayoutError(
                    f"layout format {field}:{spec} is not allowed (dates take %Y %m %d %y %j)"
                )
        parts.append(_Part(literal, field, spec or ""))
    fields = [p.field for p in parts]
    if "SOPInstanceUID" not in fields:
        raise LayoutError("layout must contain {SOPInstanceUID} so every instance has its own file")
    if template.startswith("/") or any(seg in ("", ".", "..") for seg in template.split("/")):
        raise LayoutError("layout must be a relative path without empty, '.' or '..' segments")
    return Layout(template, tuple(parts))
