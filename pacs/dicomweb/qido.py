"""QIDO-RS (PS3.18 10.6): search studies, series and instances from the index, with the same
planner and matching rules as C-FIND (`pacs.index.query`).

Attributes the index cannot match are ignored and named in a ``Warning: 299`` header, as the
standard asks; a malformed value is a 400 naming the attribute. Results come in insertion
order, so ``offset`` pages exactly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from werkzeug.datastructures import MultiDict

from pacs.dicomweb.dicomjson import attribute, keyword_of, tag_hex, vr_of
from pacs.errors import QueryError
from pacs.index.keys import KEYS, UNIQUE_KEYS, Level
from pacs.index.query import dicom_value, plan

RESERVED = {"limit", "offset", "fuzzymatching", "fuzzy", "includefield", "accept", "charset"}
STUDY_RETURNS = (
    "StudyDate", "StudyTime", "AccessionNumber", "ModalitiesInStudy", "ReferringPhysicianName",
    "TimezoneOffsetFromUTC", "PatientName", "PatientID", "PatientBirthDate", "PatientSex",
    "StudyInstanceUID", "StudyID", "StudyDescription", "NumberOfStudyRelatedSeries",
    "NumberOfStudyRelatedInstances",
)  # fmt: skip
SERIES_RETURNS = (
    "Modality", "TimezoneOffsetFromUTC", "SeriesDescription", "SeriesInstanceUID", "SeriesNumber",
    "NumberOfSeriesRelatedInstances", "PerformedProcedureStepStartDate",
    "PerformedProcedureStepStartTime", "StudyInstanceUID",
)  # fmt: skip
INSTANCE_RETURNS = (
    "SOPClassUID", "SOPInstanceUID", "TimezoneOffsetFromUTC", "InstanceNumber", "Rows",
    "Columns", "BitsAllocated", "NumberOfFrames", "StudyInstanceUID", "SeriesInstanceUID",
)  # fmt: skip
RETURNS = {Level.STUDY: STUDY_RETURNS, Level.SERIES: SERIES_RETURNS, Level.IMAGE: INSTANCE_RETURNS}
TRUE = {"true", "1", "yes"}


@attrs.frozen(kw_only=True)
class Search:
    """A parsed QIDO-RS request."""

    level: Level
    values: Mapping[str, str]  # keyword → matching value ("" only returns the key)
    limit: int
    offset: int
    fuzzy: bool
    ignored: tuple[str, ...]  # attributes given that the index cannot match


def _number(args: MultiDict[str, str], name: str, default: int) -> int:
    text = args.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise QueryError(f"{name}: expected a whole number, got {text!r}") from None
    if value < 0:
        raise QueryError(f"{name}: must not be negative, got {value}")
    return value


def _returns(level: Level, fixed: Mapping[str, str], include: Sequence[str]) -> list[str]:
    wanted = list(RETURNS[level])
    if level > Level.STUDY and "StudyInstanceUID" not in fixed:
        wanted += STUDY_RETURNS  # all series / all instances: the study's attributes too
    if level > Level.SERIES and "SeriesInstanceUID" not in fixed:
        wanted += SERIES_RETURNS
    for name in include:
        if name.lower() == "all":
            wanted += [kw for kw, key in KEYS.items() if key.level <= level]
        else:
            wanted.append(keyword_of(name))
    return list(dict.fromkeys(wanted))


def _includes(args: MultiDict[str, str]) -> list[str]:
    return [
        part.strip()
        for value in args.getlist("includefield")
        for part in value.split(",")
        if part.strip()
    ]


def parse(
    level: Level, args: MultiDict[str, str], fixed: Mapping[str, str], *, limit: int, cap: int
) -> Search:
    """Read the query string of a search at ``level`` under the path's fixed UIDs."""
    values: dict[str, str] = dict.fromkeys(_returns(level, fixed, _includes(args)), "")
    ignored: list[str] = []
    for name in args:
        if name.lower() in RESERVED:
            continue
        if "." in name:
            ignored.append(name)  # sequence matching is not offered
            continue
        keyword = keyword_of(name)
        if keyword == "Modality" and level == Level.STUDY:
            keyword = "ModalitiesInStudy"
        joined = "\\".join(_uid_list(keyword, v) for v in args.getlist(name))
        key = KEYS.get(keyword)
        if key is None or key.level > level or not key.matchable:
            ignored.append(keyword)
            values.setdefault(keyword, "")
            continue
        values[keyword] = joined
    values.update(fixed)
    fuzzy = any(args.get(flag, "").lower() in TRUE for flag in ("fuzzymatching", "fuzzy"))
    wanted = _number(args, "limit", limit)
    return Search(
        level=level,
        values=values,
        limit=min(wanted or limit, cap),
        offset=_number(args, "offset", 0),
        fuzzy=fuzzy,
        ignored=tuple(ignored),
    )


def _uid_list(keyword: str, value: str) -> str:
    """QIDO-RS separates UIDs of a list by commas as well as backslashes."""
    return value.replace(",", "\\") if vr_of(keyword) == "UI" else value


def query_of(search: Search, *, case_insensitive: bool) -> Any:
    known = {kw: v for kw, v in search.values.items() if kw in KEYS}
    return plan(search.level, known, case_insensitive=case_insensitive, fuzzy=search.fuzzy)


def retrieve_url(base: str, row: Mapping[str, Any], level: Level) -> str:
    url = f"{base}/studies/{row['StudyInstanceUID']}"
    if level >= Level.SERIES:
        url += f"/series/{row['SeriesInstanceUID']}"
    if level >= Level.IMAGE:
        url += f"/instances/{row['SOPInstanceUID']}"
    return url


def to_json(search: Search, row: Mapping[str, Any], base: str) -> dict[str, Any]:
    """One result as DICOM JSON: every asked attribute, empty when the index lacks it."""
    out: dict[str, Any] = {"00080005": {"vr": "CS", "Value": ["ISO_IR 192"]}}
    for keyword in search.values:
        key = KEYS.get(keyword)
        value = dicom_value(key, row.get(keyword)) if key else None
        out[tag_hex(keyword)] = attribute(key.vr if key else vr_of(keyword), value)
    for level in Level:
        if Level.STUDY <= level <= search.level:
            unique = UNIQUE_KEYS[level]
            out[tag_hex(unique)] = attribute("UI", row.get(unique))
    out["00080056"] = {"vr": "CS", "Value": ["ONLINE"]}
    out["00081190"] = {"vr": "UR", "Value": [retrieve_url(base, row, search.level)]}
    return dict(sorted(out.items()))
