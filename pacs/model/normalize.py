"""Normalised search forms of DICOM values for the index (pure, no I/O)."""

from __future__ import annotations

import datetime
import math
import re
import unicodedata

__all__ = ["normalize_pn", "normalize_tm", "parse_da", "parse_ds", "parse_is", "split_multi"]

_DA = re.compile(r"([0-9]{4})\.?([0-9]{2})\.?([0-9]{2})")
_TM = re.compile(r"([0-9]{2})(?:([0-9]{2})(?:([0-9]{2})(?:\.([0-9]{1,6}))?)?)?")
_TM_LEGACY = re.compile(r"([0-9]{2})(?::([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?)?")
_IS = re.compile(r"[+-]?[0-9]+")
_DS = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INT64 = 2**63 - 1
_PADDING = " \x00\t\r\n"


def _east_asian(char: str) -> bool:
    """Characters left alone (no accent stripping, no case mapping): CJK, kana, hangul."""
    point = ord(char)
    return (
        0x1100 <= point <= 0x11FF
        or 0x2E80 <= point <= 0x9FFF
        or 0xA960 <= point <= 0xD7FF
        or 0xF900 <= point <= 0xFAFF
        or point >= 0x20000
    )


def _fold(text: str) -> str:
    """NFKC (width folding), then accent stripping and upper-casing outside East Asian text."""
    folded = []
    for char in unicodedata.normalize("NFKC", text):
        if _east_asian(char):
            folded.append(char)
            continue
        base = unicodedata.normalize("NFKD", char)
        folded.append("".join(c for c in base if unicodedata.category(c) != "Mn").upper())
    return "".join(folded)


def _trim(parts: list[str]) -> list[str]:
    while parts and not parts[-1]:
        parts.pop()
    return parts


def normalize_pn(text: str) -> str:
    """Case- and accent-insensitive person name: "Doe^John^^^" and " doe ^ john" → "DOE^JOHN"."""
    groups = []
    for group in _fold(text).split("="):
        components = [" ".join(component.split()) for component in group.split("^")]
        groups.append("^".join(_trim(components)))
    return "=".join(_trim(groups))


def parse_da(value: str | None) -> datetime.date | None:
    """DA "YYYYMMDD" (or legacy "YYYY.MM.DD") → date; anything else → None."""
    match = _DA.fullmatch(value.strip(_PADDING)) if value else None
    if match is None or match.group(0).count(".") == 1:
        return None
    try:
        return datetime.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def normalize_tm(value: str | None) -> str | None:
    """TM → "HHMMSS" (missing parts zero) plus ".F…" as given; legacy "HH:MM:SS" accepted."""
    text = value.strip(_PADDING) if value else ""
    match = _TM.fullmatch(text) or _TM_LEGACY.fullmatch(text)
    if match is None:
        return None
    hour, minute, second, fraction = match.groups()
    minute, second = minute or "00", second or "00"
    if int(hour) > 23 or int(minute) > 59 or int(second) > 60:  # 60: leap second (PS3.5)
        return None
    return f"{hour}{minute}{second}" + (f".{fraction}" if fraction else "")


def parse_is(value: str | None) -> int | None:
    """IS/US text → int, tolerant of padding and "+"; outside signed 64 bits → None."""
    text = value.strip(_PADDING) if value else ""
    if not _IS.fullmatch(text):
        return None
    number = int(text)
    return number if -_INT64 - 1 <= number <= _INT64 else None


def parse_ds(value: str | None) -> float | None:
    """DS text → float; NaN, infinities, overflow and malformed text → None."""
    text = value.strip(_PADDING) if value else ""
    if not _DS.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def split_multi(value: str | None) -> tuple[str, ...]:
    """Backslash-separated values, each stripped of padding, empties removed."""
    if not value:
        return ()
    return tuple(part for part in (p.strip(_PADDING) for p in value.split("\\")) if part)
