"""WADO-RS metadata (PS3.18 10.4.1.1.3 / Annex F): a stored instance as DICOM JSON, its large
binary values (Pixel Data included) as ``BulkDataURI`` pointing back at us, never dropped.

Files are read without loading large values (pydicom defers them), so a series of big images
costs its headers only. URIs are written relative to a marker that the caller replaces with the
base URL of each request, so one rendering serves every client behind every proxy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from pacs.errors import InvalidDataset

BASE = "\x1fbase\x1f"  # stands for the request's /dicomweb URL until `with_base`
BULK_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
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
    if elem.tag == 0x7FE00010 or elem.tag in (0x7FE00008, 0x7FE00009):
        return True
    if elem.VR not in BULK_VRS:
        return False
    # A deferred value was larger than DEFER; else the loaded bytes tell.
    value = elem.value
    return value is None or len(value) > BULK_THRESHOLD


def to_json(ds: Dataset, uri: str, path: str = "") -> dict[str, Any]:
    """``ds`` as DICOM JSON; bulk values become ``{uri}/bulkdata/{tag path}``."""
    out: dict[str, Any] = {}
    for elem in ds:
        tag = f"{int(elem.tag):08X}"
        here = f"{path}{tag}"
        if elem.VR == "SQ":
            items = [to_json(item, uri, f"{here}/{n}/") for n, item in enumerate(elem.value)]
            out[tag] = {"vr": "SQ", "Value": items} if items else {"vr": "SQ"}
        elif _is_bulk(elem):
            out[tag] = {"vr": elem.VR, "BulkDataURI": f"{uri}/bulkdata/{here}"}
        else:
            out[tag] = _element(elem)
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


def instance_json(path: Path, study: str, series: str, sop: str) -> dict[str, Any]:
    """The metadata of the instance stored at ``path`` (its file meta left out)."""
    return to_json(read(path), instance_path(study, series, sop))


def dumps(items: list[dict[str, Any]]) -> str:
    return json.dumps(items, ensure_ascii=False, separators=(",", ":"))


_ESCAPED_BASE = json.dumps(BASE)[1:-1]  # how BASE reads inside JSON text


def with_base(text: str, base: str) -> str:
    """``text`` (JSON) with every URI made absolute under ``base``."""
    return text.replace(_ESCAPED_BASE, json.dumps(base)[1:-1])
