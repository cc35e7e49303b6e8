"""WADO-RS metadata (PS3.18 10.4.1.1.3 / Annex F): a stored instance as DICOM JSON, its large
binary values (Pixel Data included) as ``BulkDataURI`` pointing back at us, never dropped.

Files are read without loading large values (pydicom defers them), so a series of big images
costs its headers only. URIs are written relative to a marker that the caller replaces with the
base URL of each request, so one rendering serves every client behind every proxy."""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pydicom
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.tag import Tag

from pacs.dicomweb.dicomjson import attribute
from pacs.errors import InvalidDataset
from pacs.model.charset import decode_value, parse_declared
from pacs.model.summary import TEXT_VRS

BASE = "\x1fbase\x1f"  # stands for the request's /dicomweb URL until `with_base`
BULK_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
ASCII_VRS = frozenset({"AE", "AS", "CS", "DA", "DT", "TM", "UI", "IS", "DS"})
BINARY_FORMATS = {"US": "H", "SS": "h", "UL": "I", "SL": "i", "FL": "f", "FD": "d",
                  "UV": "Q", "SV": "q"}  # fmt: skip
PIXEL_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009})
BULK_THRESHOLD = 1024  # binary values larger than this travel as bulk data
DEFER = 4096  # values larger than this are not read when the header is


def instance_path(study: str, series: str, sop: str) -> str:
    return f"{BASE}/studies/{study}/series/{series}/instances/{sop}"


def read(path: Path) -> Dataset:
    try:
        return pydicom.dcmread(path, defer_size=DEFER)
    except (InvalidDicomError, OSError, ValueError, EOFError, KeyError, TypeError) as exc:
        raise InvalidDataset(f"{path.name}: cannot read: {type(exc).__name__}: {exc}") from exc


def _is_bulk(elem: DataElement) -> bool:
    if elem.tag in PIXEL_TAGS:
        return True
    if elem.VR not in BULK_VRS:
        return False
    # A deferred value was larger than DEFER; else the loaded bytes tell.
    value = elem.value
    return value is None or len(value) > BULK_THRESHOLD


def _dictionary_vr(tag: int) -> str | None:
    try:
        return str(dictionary_VR(tag)).split(" or ")[0]
    except KeyError:
        return "UN" if Tag(tag).is_private else None


def _text(ds: Dataset, raw: Any, vr: str, fallbacks: Sequence[str]) -> dict[str, Any]:
    """A text attribute decoded as the index decoded it (charset repair of mislabelled
    GB18030/GBK and the like)."""
    value: bytes = raw.value
    if value.isascii() and b"\x1b" not in value:  # ISO 2022 code extensions are ASCII bytes too
        text = value.decode("ascii")
    else:
        declared = parse_declared(ds.get_item(0x00080005).value if 0x00080005 in ds else None)
        text = decode_value(value, declared, vr=vr, fallbacks=fallbacks).text
    values = [text] if vr in ("LT", "ST", "UT", "UR") else text.split("\\")
    return attribute(vr, [value.rstrip(" \x00") for value in values])


def _simple(ds: Dataset, raw: Any, vr: str) -> dict[str, Any] | None:
    """Numbers and ASCII-only values read straight from the raw bytes (pydicom's conversion
    is most of the cost of a header); None to leave it to pydicom."""
    value = raw.value
    if not isinstance(value, bytes):
        return None
    if vr in ASCII_VRS:
        if not value.isascii():
            return None
        parts = [part.strip(" \x00") for part in value.decode("ascii").split("\\")]
        try:
            return attribute(vr, parts)
        except ValueError:  # IS/DS that is not a number: pydicom says how it is sent
            return None
    fmt = BINARY_FORMATS.get(vr)
    if fmt is None or len(value) % struct.calcsize(fmt):
        return None
    order = "<" if ds.original_encoding[1] in (True, None) else ">"
    count = len(value) // struct.calcsize(fmt)
    return attribute(vr, list(struct.unpack(f"{order}{count}{fmt}", value)))


def _classify(ds: Dataset, tag: int) -> tuple[str, Any, str] | None:
    """(kind, raw element, VR) of a raw element: bulk, text or simple; None when pydicom
    has converted it already (or should)."""
    raw = ds.get_item(tag)
    if raw is None or isinstance(raw, DataElement):
        return None
    vr = raw.VR or _dictionary_vr(tag)
    if tag in PIXEL_TAGS or (vr in BULK_VRS and raw.length > BULK_THRESHOLD):
        return "bulk", raw, vr or "OW"
    if vr in TEXT_VRS and isinstance(raw.value, bytes):
        return "text", raw, vr
    return "simple", raw, vr or ""


def to_json(
    ds: Dataset, uri: str, path: str = "", fallbacks: Sequence[str] = ("GB18030",)
) -> dict[str, Any]:
    """``ds`` as DICOM JSON; bulk values become ``{uri}/bulkdata/{tag path}``. Text is decoded
    with charset repair and Specific Character Set says UTF-8, which JSON is."""
    out: dict[str, Any] = {}
    for tag_value in list(ds.keys()):
        tag = f"{int(tag_value):08X}"
        here = f"{path}{tag}"
        kind = _classify(ds, tag_value)
        if kind is not None:
            what, raw, vr = kind
            if what == "bulk":
                out[tag] = {"vr": vr, "BulkDataURI": f"{uri}/bulkdata/{here}"}
                continue
            done = _text(ds, raw, vr, fallbacks) if what == "text" else _simple(ds, raw, vr)
            if done is not None:
                out[tag] = done
                continue
        elem = ds[tag_value]
        if elem.VR == "SQ":
            items = [
                to_json(item, uri, f"{here}/{n}/", fallbacks) for n, item in enumerate(elem.value)
            ]
            out[tag] = {"vr": "SQ", "Value": items} if items else {"vr": "SQ"}
        elif _is_bulk(elem):
            out[tag] = {"vr": elem.VR, "BulkDataURI": f"{uri}/bulkdata/{here}"}
        else:
            out[tag] = _element(elem)
    if not path:  # the text above is Unicode, and JSON is UTF-8
        out["00080005"] = {"vr": "CS", "Value": ["ISO_IR 192"]}
        out = dict(sorted(out.items()))
    return out


def _element(elem: DataElement) -> dict[str, Any]:
    try:
        value: dict[str, Any] = elem.to_json_dict(None, BULK_THRESHOLD)
    except (ValueError, TypeError, OverflowError):
        # A value that breaks its VR (a number that is not one) goes out as received text.
        raw = elem.value
        text = raw.decode("latin-1") if isinstance(raw, bytes) else str(raw)
        return {"vr": elem.VR, "Value": [text]} if text else {"vr": elem.VR}
    return value


def instance_json(
    path: Path, study: str, series: str, sop: str, fallbacks: Sequence[str] = ("GB18030",)
) -> dict[str, Any]:
    """The metadata of the instance stored at ``path`` (its file meta left out)."""
    return to_json(read(path), instance_path(study, series, sop), fallbacks=fallbacks)


def dumps(items: list[dict[str, Any]]) -> str:
    return json.dumps(items, ensure_ascii=False, separators=(",", ":"))


_ESCAPED_BASE = json.dumps(BASE)[1:-1]  # how BASE reads inside JSON text


def with_base(text: str, base: str) -> str:
    """``text`` (JSON) with every URI made absolute under ``base``."""
    return text.replace(_ESCAPED_BASE, json.dumps(base)[1:-1])
