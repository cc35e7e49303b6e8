"""Character-set decoding and mojibake repair over raw DICOM string bytes (pure, no I/O).

:func:`decode_value` keeps bytes that are valid and plausible in the declared Specific Character
Set (0008,0005), else tries UTF-8 and the fallbacks (GB18030). Strictness needs no global state:
:func:`_walk` follows pydicom's escape-sequence rules and tables strictly, and only values it
validates reach ``pydicom.charset.decode_bytes``, which is then silent (no warnings, no logs).
"""

from __future__ import annotations

import codecs
import functools
import re
from collections.abc import Callable, Iterable, Sequence

import attrs
from pydicom.charset import (
    CODES_TO_ENCODINGS,
    ESC,
    STAND_ALONE_ENCODINGS,
    convert_encodings,
    decode_bytes,
    default_encoding,
    handled_encodings,
    python_encoding,
)
from pydicom.valuerep import PN_DELIMS, TEXT_VR_DELIMS

__all__ = ["Decoded", "decode_value", "encode_utf8", "parse_declared"]

UTF8 = "ISO_IR 192"
_SINGLE_VALUED_VRS = frozenset({"ST", "LT", "UT"})
_FRAGMENTS = re.compile(b"(^[^\x1b]+|[\x1b][^\x1b]*)")
# escape sequences that switch G0 to a two-byte set: '^', '=', '\\' bytes there are not delimiters
_G0_MULTIBYTE = (b"\x1b$B", b"\x1b$@", b"\x1b$A", b"\x1b$(D", b"\x1b$(C", b"\x1b$(Q")
_G0_SINGLE = (b"\x1b(B", b"\x1b(J")
# accented Latin-1 pairs read as hanzi inside words: "Concei\xe7\xe3o" → "Concei玢o"; Chinese
# text puts Latin (CT, MR, mm) next to hanzi, but not a lone hanzi inside a word or "hanzi+abc"
_LATIN_WORD = re.compile("[A-Za-z][\u3400-\u9fff\uf900-\ufaff][A-Za-z]|[\u3400-\u9fff][a-z]")
_GB2312_CHECKED = frozenset({"gb18030", "gbk", "gb2312"})
# single-byte sets whose high half is mostly Latin letters: GB bytes there are worth repairing
_LATIN = frozenset({"ascii", *(f"iso8859-{part}" for part in (1, 2, 3, 4, 9, 15))})
# Latin (extended), Greek, Cyrillic, Armenian to Arabic: the alphabets of 2-byte UTF-8
_SCRIPTS = ((0xC0, 0x24F), (0x370, 0x3FF), (0x400, 0x52F), (0x530, 0x6FF))
_PUNCTUATION = "\u00b7\u2014\u2018\u2019\u201c\u201d\u2026"  # middle dot, dash, quotes, ellipsis
_LATIN_9 = ("ISO_IR 203", "ISO 2022 IR 203")
_PROBE = b"\xb0\xa1\xc3\xa9\x82\xa0\xa4\xa2"  # GB/EUC, UTF-8 and Shift-JIS pairs


@attrs.frozen(kw_only=True)
class Decoded:
    text: str  # the Unicode value
    charset: str  # DICOM defined term actually used, e.g. "ISO_IR 100", "GB18030", "ISO_IR 192"
    repaired: bool  # True when the bytes were NOT decoded with the declared set
    declared: str  # the declared 0008,0005 value joined with "\\" ("" when absent)


def parse_declared(raw: bytes | str | Iterable[str] | None) -> tuple[str, ...]:
    """(0008,0005) raw value → defined terms; b"\\ISO 2022 IR 87" → ("", "ISO 2022 IR 87").
    Also takes the value pydicom already converted (a str or a MultiValue of str)."""
    if raw is None:
        return ()
    if isinstance(raw, bytes):
        text = raw.decode("latin-1")
    elif isinstance(raw, str):
        text = raw
    else:
        text = "\\".join(str(term) for term in raw)
    terms = [term.strip(" \x00\t\r\n") for term in text.split("\\")]
    while terms and not terms[-1]:
        terms.pop()
    return tuple(terms)


def encode_utf8(text: str) -> bytes:
    """Re-encode (repaired) text for ISO_IR 192; lone surrogates become '?'. No padding."""
    return text.encode("utf-8", errors="replace")


@functools.cache
def _dicom_terms() -> dict[str, str]:
    """Canonical Python codec name → preferred DICOM defined term (stand-alone terms only)."""
    terms: dict[str, str] = {"iso8859-15": "ISO_IR 203"}
    for term, codec in python_encoding.items():
        if (term.startswith("ISO_IR ") and term != "ISO_IR 6") or term in ("GB18030", "GBK"):
            terms.setdefault(codecs.lookup(codec).name, term)
    return terms


@functools.lru_cache(maxsize=256)
def _resolve(term: str) -> tuple[str, str] | None:
    """A declared term or codec name → (label, name pydicom's convert_encodings takes silently)."""
    term = term.strip()
    upper = term.upper()
    patched = re.sub(r"^ISO[ _-]?IR[ _-]?(?=\d)", "ISO_IR ", upper)
    patched = re.sub(r"^ISO[ _-]?2022[ _-]?IR[ _-]?(?=\d)", "ISO 2022 IR ", patched)
    for candidate in (term, upper, patched):
        if candidate in _LATIN_9:  # Latin-9, defined by DICOM, unknown to pydicom 3.0
            return candidate, "iso8859_15"
        if candidate in python_encoding:
            label = "" if candidate in ("ISO_IR 6", "ISO 2022 IR 6") else candidate
            return label, candidate or "ISO_IR 6"
    try:
        name = codecs.lookup(term).name
    except LookupError:
        return None
    label = _dicom_terms().get(name, name)
    return label, label if label in python_encoding else name


def _encodings(declared: Sequence[str]) -> tuple[list[str], list[str]]:
    """Declared terms → (labels, Python encodings); unknown terms mean the default repertoire."""
    resolved = [_resolve(term) or ("", "ISO_IR 6") for term in declared] or [("", "ISO_IR 6")]
    if resolved[0][1] in STAND_ALONE_ENCODINGS:
        resolved = resolved[:1]
    else:
        resolved = resolved[:1] + [r for r in resolved[1:] if r[1] not in STAND_ALONE_ENCODINGS]
    return [r[0] for r in resolved], convert_encodings([r[1] for r in resolved])


@functools.lru_cache(maxsize=64)
def _codec(name: str) -> str:
    return codecs.lookup(name).name


@functools.lru_cache(maxsize=64)
def _is_multibyte(encoding: str) -> bool:
    name = _codec(encoding)
    if name.startswith(("iso2022", "utf", "hz")):
        return True
    return len(_PROBE.decode(name, errors="replace")) < len(_PROBE)


def _split(raw: bytes, delimiter: int) -> list[bytes]:
    """Split on a delimiter byte, except while G0 holds a two-byte set (ISO 2022 IR 87/159)."""
    parts, start, multibyte, i = [], 0, False, 0
    while i < len(raw):
        if raw[i] == 0x1B:
            multibyte = raw.startswith(_G0_MULTIBYTE, i) or (
                multibyte and not raw.startswith(_G0_SINGLE, i)
            )
        elif raw[i] == delimiter and not multibyte:
            parts.append(raw[start:i])
            start = i + 1
        i += 1
    return [*parts, raw[start:]]


def _pieces(raw: bytes, vr: str, decode: Callable[[bytes, set[int]], str]) -> str:
    """Apply ``decode`` per value and, for PN, per component group, as pydicom does."""
    if ESC not in raw:  # no code extensions: delimiters never change state, decode it whole
        return decode(raw, TEXT_VR_DELIMS)
    values = [raw] if vr in _SINGLE_VALUED_VRS else _split(raw, 0x5C)
    if vr == "PN":
        groups = ([decode(g, PN_DELIMS) for g in _split(value, 0x3D)] for value in values)
        return "\\".join("=".join(parts) for parts in groups)
    return "\\".join(decode(value, TEXT_VR_DELIMS) for value in values)


def _walk(raw: bytes, encodings: Sequence[str], delimiters: set[int], strict: bool) -> str:
    """pydicom's decode_bytes rules; strict mode raises and reads ISO_IR 6 as ASCII proper."""
    errors = "strict" if strict else "replace"
    encodings = [("ascii" if strict and e == default_encoding else e) for e in encodings]
    text = []
    for fragment in _FRAGMENTS.findall(raw):
        if not fragment.startswith(ESC):
            text.append(fragment.decode(encodings[0], errors))
            continue
        length = 4 if fragment.startswith((b"\x1b$(", b"\x1b$)")) else 3
        encoding = CODES_TO_ENCODINGS.get(fragment[:length], "")
        if encoding == default_encoding and strict:
            encoding = "ascii"
        elif encoding not in encodings and encoding != default_encoding:
            if strict:
                raise ValueError("unknown or undeclared escape sequence")
            text.append(fragment.decode(encodings[0], errors))
            continue
        if encoding in handled_encodings:
            text.append(fragment.decode(encoding, errors))
            continue
        body = fragment[length:]
        cut = next((i for i, byte in enumerate(body) if byte in delimiters), len(body))
        text.append(body[:cut].decode(encoding, errors) + body[cut:].decode(encodings[0], errors))
    return "".join(text)


def _strict(raw: bytes, encodings: Sequence[str], vr: str) -> str | None:
    """Decoded text when every byte is valid in ``encodings``, else None."""
    try:
        _pieces(raw, vr, lambda part, delims: _walk(part, encodings, delims, strict=True))
    except (UnicodeError, LookupError, ValueError):
        return None
    try:  # validated, so pydicom decodes it silently
        return _pieces(raw, vr, lambda part, delims: decode_bytes(part, encodings, delims))
    except (UnicodeError, LookupError, ValueError):
        return None


def _lenient(raw: bytes, encodings: Sequence[str], vr: str) -> str:
    try:
        return _pieces(raw, vr, lambda part, delims: _walk(part, encodings, delims, strict=False))
    except (UnicodeError, LookupError, ValueError):
        return raw.decode("latin-1")


def _core(char: str, chinese: bool) -> bool:
    """An ideograph, or for non-Chinese codecs also kana or a hangul syllable."""
    point = ord(char)
    if 0x3400 <= point <= 0x9FFF or 0xF900 <= point <= 0xFAFF or 0x20000 <= point <= 0x3FFFF:
        return True
    return not chinese and (0x3040 <= point <= 0x30FF or 0xAC00 <= point <= 0xD7A3)


def _east_asian(char: str, chinese: bool) -> bool:
    """A core character, CJK punctuation, a fullwidth form or the name separator '·'."""
    point = ord(char)
    if 0x3000 <= point <= 0x303F or 0xFF00 <= point <= 0xFFEF or char in _PUNCTUATION:
        return True
    return _core(char, chinese)


def _gb2312(char: str) -> bool:
    """In the GB2312 code space as GB18030 maps it (two bytes, both 0xA1-0xFE)."""
    try:
        encoded = char.encode("gb18030")
    except UnicodeError:
        return False
    return len(encoded) == 2 and encoded[0] >= 0xA1 and encoded[1] >= 0xA1


def _plausible(text: str, codec: str) -> bool:
    """Every non-ASCII character is East Asian (and common GB2312 hanzi for GB codecs)."""
    chinese = codec in _GB2312_CHECKED
    wide = [char for char in text if not char.isascii()]
    if not wide or _LATIN_WORD.search(text):
        return False
    if not all(_east_asian(char, chinese) and (not chinese or _gb2312(char)) for char in wide):
        return False
    return any(_core(char, chinese) for char in wide)


def _candidates(
    kind: str, labels: Sequence[str], encodings: Sequence[str], fallbacks: Sequence[str]
) -> list[tuple[str, str, bool]]:
    """(charset label, Python codec, needs plausibility) in the order they are tried."""
    found: list[tuple[str, str, bool]] = [] if kind == "utf8" else [(UTF8, "utf-8", False)]
    if kind == "multi":  # the declared multi-byte set without its escape sequences
        found += [
            (label, _codec(enc), False)
            for label, enc in zip(labels, encodings, strict=True)
            if _is_multibyte(enc) and not _codec(enc).startswith(("iso2022", "utf"))
        ]
    if kind == "script":  # Greek, Cyrillic, ...: their letters would read as GB2312 hanzi
        return found
    for fallback in fallbacks:
        resolved = _resolve(fallback)
        if resolved is not None:
            found.append((resolved[0], _codec(python_encoding.get(resolved[1], resolved[1])), True))
    return found


def _script(char: str) -> int | None:
    point = ord(char)
    return next((i for i, (low, high) in enumerate(_SCRIPTS) if low <= point <= high), None)


def _prefer_utf8(text: str) -> bool:
    """When GB18030 is plausible too, UTF-8 wins for East Asian 3-byte characters, accented Latin
    words ("José") or runs of 3+ letters of one alphabet ("Ωμέγα"); GB2312 hanzi read as UTF-8
    give lone letters of mixed alphabets ("寻" → "Ѱ") or stray supplementary characters."""
    wide = [char for char in text if not char.isascii()]
    if any(ord(char) >= 0x800 for char in wide):
        return all(ord(char) <= 0xFFFF and _east_asian(char, chinese=False) for char in wide)
    words = re.findall(r"[^\W\d_]+", text)
    if len(wide) != sum(not char.isascii() for word in words for char in word):
        return False
    for word in words:
        scripts = {_script(char) for char in word if not char.isascii()}
        if not scripts or (scripts == {0} and any(char.isascii() for char in word)):
            continue  # ASCII only, or accented letters inside a Latin word
        if len(scripts) > 1 or None in scripts or len(word) < 3:
            return False
    return True


def _repair(raw: bytes, candidates: list[tuple[str, str, bool]], vr: str) -> tuple[str, str] | None:
    seen: set[str] = set()
    utf8: tuple[str, str] | None = None
    for label, codec, check in candidates:
        if codec in seen:
            continue
        seen.add(codec)
        text = _strict(raw, [codec], vr)
        if text is None or (check and not _plausible(text, codec)):
            continue
        if codec != "utf-8":
            return utf8 if utf8 is not None and _prefer_utf8(utf8[0]) else (text, label)
        utf8 = text, label
    return utf8


def _kind(encodings: Sequence[str]) -> str:
    if _codec(encodings[0]) == "utf-8":
        return "utf8"
    if any(_is_multibyte(e) for e in encodings):
        return "multi"
    return "latin" if all(_codec(e) in _LATIN for e in encodings) else "script"


def decode_value(
    raw: bytes, declared: Sequence[str], *, vr: str = "LO", fallbacks: Sequence[str] = ("GB18030",)
) -> Decoded:
    """Decode one raw string value, repairing it when the declared set does not fit the bytes."""
    if isinstance(declared, str):  # a bare "ISO_IR 100" or "\\ISO 2022 IR 87"
        declared = parse_declared(declared)
    vr = vr.upper()
    labels, encodings = _encodings(declared)
    charset = "\\".join(label for label in labels if label) or "ISO_IR 6"
    keep = functools.partial(Decoded, charset=charset, repaired=False, declared="\\".join(declared))
    text = _strict(raw, encodings, vr)
    kind = _kind(encodings)
    if text is not None and (raw.isascii() or kind in ("utf8", "multi")):
        return keep(text=text)
    if not raw.isascii():
        repaired = _repair(raw, _candidates(kind, labels, encodings, fallbacks), vr)
        if repaired is not None:
            return attrs.evolve(keep(text=repaired[0]), charset=repaired[1], repaired=True)
    return keep(text=text if text is not None else _lenient(raw, encodings, vr))
