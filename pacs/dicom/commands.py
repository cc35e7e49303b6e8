"""DIMSE command sets encoded without pydicom's general writer. Thread-only; no trio here.

Every DIMSE message starts with a command set: a handful of group 0000 elements (US, UL, UI,
AE...), always implicit VR little endian. pynetdicom encodes each one with pydicom twice (once
to learn the Command Group Length, once to send): on loopback that was a fifth of the CPU
behind each C-FIND match, C-STORE response and C-MOVE sub-operation. `encode_command` writes
the same bytes directly; whatever it does not recognise (another group, a multi-valued or
unusual element, another syntax) goes to pydicom as before.
"""

from __future__ import annotations

import struct
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom import dimse_messages, dsutils

_pydicom_encode = dsutils.encode
_NUMBERS = {"US": struct.Struct("<H"), "UL": struct.Struct("<I")}
_TEXT = frozenset({"AE", "CS", "LO", "SH", "UI", "LT", "ST"})
_LENGTH = struct.Struct("<HHI")


def encode_command(ds: Dataset) -> bytes | None:
    """A command set's implicit VR little endian bytes, or None when pydicom must write it."""
    parts: list[bytes] = []
    for tag in sorted(ds.keys()):
        if tag >> 16:
            return None
        elem = ds.get_item(tag)
        value = elem.value
        vr = elem.VR
        if value is None or value == "":
            data = b""
        elif vr in _NUMBERS and isinstance(value, int) and not isinstance(value, bool):
            data = _NUMBERS[vr].pack(value)
        elif vr in _TEXT and isinstance(value, str) and value.isascii():
            data = value.encode("ascii")
            if len(data) % 2:
                data += b"\0" if vr == "UI" else b" "
        else:
            return None
        parts += (_LENGTH.pack(0, tag & 0xFFFF, len(data)), data)
    return b"".join(parts)


def _encode(ds: Any, is_implicit_vr: bool, is_little_endian: bool, deflated: bool = False) -> Any:
    if is_implicit_vr and is_little_endian and not deflated and isinstance(ds, Dataset):
        encoded = encode_command(ds)
        if encoded is not None:
            return encoded
    return _pydicom_encode(ds, is_implicit_vr, is_little_endian, deflated)


def install() -> None:
    """Point pynetdicom's DIMSE message encoder at `_encode` (idempotent)."""
    dimse_messages.encode = _encode  # type: ignore[attr-defined]
