"""Re-encoding repaired text as UTF-8 (``[charset] rewrite_files = true``). Thread-only."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydicom import dcmread
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement
from pydicom.valuerep import PersonName

from pacs.model.charset import decode_value, parse_declared
from pacs.model.summary import TEXT_VRS

SINGLE_VALUED = ("LT", "ST", "UT")


def _values(text: str, vr: str) -> object:
    if vr in SINGLE_VALUED:
        return text.rstrip(" \x00")
    parts = [v.strip(" \x00") for v in text.split("\\")]
    values = [PersonName(v) if vr == "PN" else v for v in parts]
    return values if len(values) > 1 else values[0]


def rewrite_as_utf8(path: Path, fallbacks: Sequence[str]) -> Path:
    """Decode every top-level text element of ``path`` with charset repair and write the file
    back in place as ISO_IR 192. Returns ``path``."""
    ds = dcmread(path)
    raw_cs = ds.get_item(0x00080005)
    declared = parse_declared(raw_cs.value if raw_cs is not None else None)
    for tag in list(ds.keys()):
        raw = ds.get_item(tag)
        vr = (raw.VR if raw is not None and raw.VR else None) or _dictionary_vr(tag)
        if raw is None or vr not in TEXT_VRS or not isinstance(raw.value, bytes):
            continue
        text = decode_value(raw.value, declared, vr=vr, fallbacks=fallbacks).text
        ds[tag] = DataElement(tag, vr, _values(text, vr))
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.save_as(path, enforce_file_format=True)
    return path


def _dictionary_vr(tag: int) -> str | None:
    try:
        return str(dictionary_VR(tag))
    except KeyError:
        return None
