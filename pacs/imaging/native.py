"""Re-encoding between native syntaxes: byte order, VR encoding, deflate.

pydicom writes values it has parsed in whatever encoding the target asks for, but leaves raw
elements and byte-valued OW/OL/OF/OD/OV data as they were read. So every raw element is parsed
first (an implicit VR element learns its VR from the dictionary) and word-valued bytes are swapped
when the byte order changes. Sequences are copied first: their items are shared with the caller's
data set, which must stay as it was."""

from __future__ import annotations

import copy

import numpy as np
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.uid import UID

from pacs.imaging import syntaxes as ts

WORD_BYTES = {"OW": 2, "OL": 4, "OF": 4, "OD": 8, "OV": 8}


def to_native(out: Dataset, src: ts.Syntax, tgt: ts.Syntax) -> Dataset:
    """Make ``out`` (a shallow copy the caller owns) encode as ``tgt``; return it."""
    swap = src.little_endian != tgt.little_endian
    if swap or not src.explicit_vr:  # explicit VR in the same byte order writes as it is
        _convert(out, swap=swap, top=True)
    out.file_meta.TransferSyntaxUID = UID(tgt.uid)
    return out


def _convert(ds: Dataset, *, swap: bool, top: bool) -> None:
    for tag in list(ds.keys()):
        elem = ds[tag]  # parses a raw element into a DataElement stored in ds
        if elem.VR == "SQ":
            if top:
                elem = copy.deepcopy(elem)
                ds[tag] = elem
            for item in elem.value:
                _convert(item, swap=swap, top=False)
        elif swap:
            _swap(ds, elem)


def _word_vr(ds: Dataset, elem: DataElement) -> str:
    """Resolve the ambiguous VRs an implicit-VR read leaves ("OB or OW", "US or OW")."""
    vr = str(elem.VR)
    if " or " not in vr:
        return vr
    if elem.tag == 0x7FE00010 and int(ds.get("BitsAllocated", 16)) <= 8:
        return "OB"
    return "OW" if "OW" in vr else vr


def _swap(ds: Dataset, elem: DataElement) -> None:
    width = WORD_BYTES.get(_word_vr(ds, elem))
    value = elem.value
    if not width or not isinstance(value, bytes | bytearray) or len(value) % width:
        return
    if elem.is_undefined_length:  # encapsulated fragments are byte streams, never swapped
        return
    swapped = np.frombuffer(value, dtype=f"u{width}").byteswap().tobytes()
    new = DataElement(elem.tag, _word_vr(ds, elem), swapped)
    ds[elem.tag] = new
