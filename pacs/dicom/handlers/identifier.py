"""C-FIND match identifiers encoded straight to bytes. Thread-only; no trio here.

pynetdicom encodes each pending response's identifier with pydicom's general writer: about a
quarter of the C-FIND SCP's CPU per match, for a data set whose shape (tags, VRs, order) is the
same for every match of a query and whose values are short strings. `Encoder` works out the
element headers once per query and each match is then a join of bytes. It only takes the
common case: little endian (implicit or explicit VR, the syntaxes peers offer for Q/R), text VRs,
ASCII values that fit a short length; anything else (`encode` returns None) goes through
pydicom as before, so non-ASCII names keep pydicom's character-set handling.

`install` makes pynetdicom's service classes use the bytes of an `EncodedIdentifier` instead of
re-encoding it; every other data set is encoded as before.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from io import BytesIO
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom import dsutils, service_class

TEXT_VRS = frozenset(
    {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UI"}
)
_SHORT_MAX = 0xFFFF
_ENCODED = "pacs_encoded"  # (implicit VR?, bytes) on an EncodedIdentifier


class EncodedIdentifier(Dataset):
    """An identifier whose encoded form is already known. Its elements are not populated: only
    pynetdicom's encoder (patched by `install`) reads it."""


def _header(tag: int, vr: str, implicit: bool) -> tuple[bytes, bool]:
    """The bytes before the length, and whether the length is 4 bytes (else 2)."""
    head = struct.pack("<HH", tag >> 16, tag & 0xFFFF)
    return (head, True) if implicit else (head + vr.encode("ascii"), False)


class Encoder:
    """Encodes the matches of one query. ``fields``: (tag, VR) of each varying element, in the
    order values are later given; ``fixed``: (tag, VR, value) of the elements every match
    carries unchanged (level, retrieve AE, character set)."""

    def __init__(
        self,
        fields: Sequence[tuple[int, str]],
        fixed: Iterable[tuple[int, str, object]],
        *,
        implicit: bool,
    ) -> None:
        self.implicit = implicit
        fixed = list(fixed)
        overridden = {tag for tag, _vr, _v in fixed}  # a fixed element wins over a requested one
        slots: list[tuple[int, str, int]] = []  # tag, VR, index into values (< 0: fixed)
        slots += [(tag, vr, i) for i, (tag, vr) in enumerate(fields) if tag not in overridden]
        slots += [(tag, vr, -1 - i) for i, (tag, vr, _v) in enumerate(fixed)]
        self.usable = all(vr in TEXT_VRS for _tag, vr, _i in slots)
        slots.sort()
        self._fixed = [value for _t, _vr, value in fixed]
        self._slots = [(*_header(tag, vr, implicit), vr == "UI", index) for tag, vr, index in slots]

    def encode(self, values: Sequence[object]) -> EncodedIdentifier | None:
        """The match as an `EncodedIdentifier`, or None when it needs pydicom."""
        if not self.usable:
            return None
        parts: list[bytes] = []
        for head, long_length, uid, index in self._slots:
            text = _text(values[index] if index >= 0 else self._fixed[-1 - index])
            if text is None:
                return None
            data = text.encode("ascii")
            if len(data) % 2:
                data += b"\0" if uid else b" "
            if long_length:
                parts += (head, struct.pack("<I", len(data)), data)
            elif len(data) <= _SHORT_MAX:
                parts += (head, struct.pack("<H", len(data)), data)
            else:
                return None
        ds = EncodedIdentifier()
        object.__setattr__(ds, _ENCODED, (self.implicit, b"".join(parts)))
        return ds


def _text(value: object) -> str | None:
    """A value as DICOM text when it is plain ASCII (None: pydicom must encode it)."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        if not all(isinstance(v, str) for v in value):
            return None
        value = "\\".join(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.isascii():
        return None
    return value


def _encode(ds: Any, is_implicit_vr: bool, is_little_endian: bool, deflated: bool = False) -> Any:
    encoded = ds.__dict__.get(_ENCODED) if isinstance(ds, EncodedIdentifier) else None
    if encoded is None:
        return _pydicom_encode(ds, is_implicit_vr, is_little_endian, deflated)
    implicit, data = encoded
    if implicit == is_implicit_vr and is_little_endian and not deflated:
        return data
    # encoded for another syntax than the one asked (the handler picks the context's own,
    # so this is a safety net): read it back and let pydicom write it
    parsed = dsutils.decode(BytesIO(data), implicit, True)
    return _pydicom_encode(parsed, is_implicit_vr, is_little_endian, deflated)


_pydicom_encode = dsutils.encode


def install() -> None:
    """Point pynetdicom's service classes at `_encode` (idempotent)."""
    service_class.encode = _encode  # type: ignore[attr-defined]
