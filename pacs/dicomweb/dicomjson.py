"""DICOM JSON (PS3.18 Annex F) of index values: one attribute per call, numbers as numbers,
names as component groups, no ``Value`` when empty."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from pydicom.datadict import dictionary_VR, keyword_for_tag, tag_for_keyword

from pacs.errors import QueryError

INTEGER_VRS = frozenset({"IS", "US", "SS", "UL", "SL", "UV", "SV"})
DECIMAL_VRS = frozenset({"DS", "FL", "FD"})
PN_GROUP_NAMES = ("Alphabetic", "Ideographic", "Phonetic")


def tag_hex(keyword: str) -> str:
    tag = tag_for_keyword(keyword)
    if tag is None:
        raise KeyError(keyword)
    return f"{tag:08X}"


def keyword_of(name: str) -> str:
    """A QIDO-RS attribute as a keyword: given as a keyword or as ``ggggeeee``."""
    if len(name) == 8 and all(c in "0123456789abcdefABCDEF" for c in name):
        keyword = keyword_for_tag(int(name, 16))
        if not keyword:
            raise QueryError(f"{name}: not an attribute of the DICOM dictionary")
        return str(keyword)
    if tag_for_keyword(name) is None:
        raise QueryError(f"{name!r}: not a DICOM attribute keyword or tag")
    return name


def vr_of(keyword: str) -> str:
    vr = str(dictionary_VR(keyword))
    return vr.split(" or ", maxsplit=1)[0]


def _values(vr: str, value: object) -> list[Any]:
    if isinstance(value, dt.date):
        return [value.strftime("%Y%m%d")]
    if isinstance(value, list | tuple):
        items: Iterable[object] = value
    elif isinstance(value, str) and vr not in {"LT", "ST", "UT", "UR"}:
        items = value.split("\\")
    else:
        items = [value]
    out: list[Any] = []
    for item in items:
        if item is None or item == "":
            continue
        out.append(_one(vr, item))
    return out


def _one(vr: str, item: object) -> Any:
    if vr == "PN":
        groups = str(item).split("=")
        return {name: text for name, text in zip(PN_GROUP_NAMES, groups, strict=False) if text}
    if vr in INTEGER_VRS:
        return int(float(str(item)))
    if vr in DECIMAL_VRS:
        number = float(str(item))
        return int(number) if number.is_integer() and vr == "DS" else number
    return str(item)


def attribute(vr: str, value: object) -> dict[str, Any]:
    """``{"vr": vr, "Value": [...]}``, without ``Value`` when there is none."""
    values = [] if value is None else _values(vr, value)
    return {"vr": vr, "Value": values} if values else {"vr": vr}
