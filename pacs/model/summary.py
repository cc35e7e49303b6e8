"""From a parsed header to the index's view of one instance: pure, no I/O.

Text values are decoded from their raw bytes with charset repair (`pacs.model.charset`), so the
index holds Unicode even when the file's Specific Character Set is absent or wrong."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs
from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from pacs.errors import MissingAttribute
from pacs.messages import (
    CharsetRepair,
    DatasetSummary,
    InstanceSummary,
    PatientSummary,
    SeriesSummary,
    StudySummary,
)
from pacs.model.charset import decode_value, parse_declared
from pacs.model.normalize import normalize_tm, parse_da, parse_ds, parse_is, split_multi

# field name -> (DICOM keyword, kind); kinds say how the raw bytes become a column value
PATIENT = {
    "patient_id": ("PatientID", "LO"),
    "issuer": ("IssuerOfPatientID", "LO"),
    "name": ("PatientName", "PN"),
    "birth_date": ("PatientBirthDate", "DA"),
    "birth_time": ("PatientBirthTime", "TM"),
    "sex": ("PatientSex", "CS"),
    "other_ids": ("OtherPatientIDs", "LO"),
    "comments": ("PatientComments", "LT"),
}
STUDY = {
    "study_uid": ("StudyInstanceUID", "UI"),
    "study_date": ("StudyDate", "DA"),
    "study_time": ("StudyTime", "TM"),
    "accession_number": ("AccessionNumber", "SH"),
    "study_id": ("StudyID", "SH"),
    "description": ("StudyDescription", "LO"),
    "referring_physician": ("ReferringPhysicianName", "PN"),
    "reading_physicians": ("NameOfPhysiciansReadingStudy", "PN"),
    "institution": ("InstitutionName", "LO"),
    "patient_age": ("PatientAge", "AS"),
    "patient_size": ("PatientSize", "DS"),
    "patient_weight": ("PatientWeight", "DS"),
    "timezone_offset": ("TimezoneOffsetFromUTC", "SH"),
}
SERIES = {
    "series_uid": ("SeriesInstanceUID", "UI"),
    "modality": ("Modality", "CS"),
    "series_number": ("SeriesNumber", "IS"),
    "description": ("SeriesDescription", "LO"),
    "series_date": ("SeriesDate", "DA"),
    "series_time": ("SeriesTime", "TM"),
    "body_part": ("BodyPartExamined", "CS"),
    "laterality": ("Laterality", "CS"),
    "protocol_name": ("ProtocolName", "LO"),
    "station_name": ("StationName", "SH"),
    "manufacturer": ("Manufacturer", "LO"),
    "model_name": ("ManufacturerModelName", "LO"),
    "performing_physician": ("PerformingPhysicianName", "PN"),
    "pps_start_date": ("PerformedProcedureStepStartDate", "DA"),
    "pps_start_time": ("PerformedProcedureStepStartTime", "TM"),
}
INSTANCE = {
    "sop_uid": ("SOPInstanceUID", "UI"),
    "sop_class_uid": ("SOPClassUID", "UI"),
    "instance_number": ("InstanceNumber", "IS"),
    "content_date": ("ContentDate", "DA"),
    "content_time": ("ContentTime", "TM"),
    "acquisition_datetime": ("AcquisitionDateTime", "DT"),
    "image_type": ("ImageType", "CS"),
    "rows": ("Rows", "US"),
    "columns": ("Columns", "US"),
    "bits_allocated": ("BitsAllocated", "US"),
    "number_of_frames": ("NumberOfFrames", "IS"),
    "photometric": ("PhotometricInterpretation", "CS"),
}
TEXT_VRS = {"PN", "LO", "SH", "ST", "LT", "UT", "UC"}
REQUIRED = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")


@attrs.define
class _Reader:
    """Reads one value at a time from a dataset whose elements are still raw."""

    ds: Dataset
    declared: tuple[str, ...]
    fallbacks: Sequence[str]
    repairs: list[CharsetRepair] = attrs.field(factory=list)

    def raw(self, keyword: str) -> bytes | str | None:
        """The element's bytes while still raw; text when pydicom already converted it."""
        elem = self.ds.get_item(_tag(keyword))
        if elem is None or elem.value is None:
            return None
        value = elem.value
        if isinstance(value, bytes):
            return value
        if isinstance(value, list | tuple | MultiValue):
            return "\\".join(str(v) for v in value)
        return str(value)

    def text(self, keyword: str, vr: str) -> str:
        """Unicode text; NULs (which some databases refuse) and padding removed."""
        raw = self.raw(keyword)
        if not raw:
            return ""
        if isinstance(raw, str):
            return _clean(raw)
        if vr not in TEXT_VRS:
            return _clean(raw.decode("ascii", "replace"))
        decoded = decode_value(raw, self.declared, vr=vr, fallbacks=self.fallbacks)
        text = _clean(decoded.text)
        if decoded.repaired:
            self.repairs.append(
                CharsetRepair(
                    keyword=keyword, declared=decoded.declared, used=decoded.charset, text=text
                )
            )
        return text

    def value(self, keyword: str, vr: str) -> Any:
        text = self.text(keyword, vr)
        if vr == "DA":
            return parse_da(text)
        if vr == "TM":
            return normalize_tm(text)
        if vr in ("IS", "US"):
            return _us(self.ds, keyword) if vr == "US" else parse_is(text)
        if vr == "DS":
            return parse_ds(text.split("\\")[0])
        if vr == "CS":
            return "\\".join(split_multi(text))
        return text


def _clean(text: str) -> str:
    return text.replace("\x00", " ").strip(" ")


def _tag(keyword: str) -> int:
    tag = tag_for_keyword(keyword)
    if tag is None:
        raise KeyError(keyword)
    return tag


def _us(ds: Dataset, keyword: str) -> int | None:
    """Binary US values need the dataset's byte order: let pydicom convert this one element."""
    try:
        value = ds.get(keyword)
    except (ValueError, TypeError):
        return None
    return int(value) if isinstance(value, int) else None


def _build(cls: Callable[..., Any], spec: dict[str, tuple[str, str]], reader: _Reader) -> Any:
    return cls(**{field: reader.value(kw, vr) for field, (kw, vr) in spec.items()})


def summarize(
    ds: Dataset,
    *,
    fallbacks: Sequence[str] = ("GB18030",),
    sop_class_uid: str = "",
    sop_instance_uid: str = "",
) -> DatasetSummary:
    """Summarise a header (parsed with raw elements) for the index.

    ``sop_class_uid``/``sop_instance_uid`` come from the C-STORE command and stand in when the
    dataset lacks them. Raises MissingAttribute when a level UID is absent."""
    elem = ds.get_item(0x00080005)
    declared = parse_declared(None if elem is None else elem.value)
    reader = _Reader(ds, declared, fallbacks)
    missing = [kw for kw in REQUIRED if not reader.text(kw, "UI")]
    if missing == ["SOPInstanceUID"] and sop_instance_uid:
        missing = []
    if missing:
        raise MissingAttribute(f"missing or empty {', '.join(missing)}")
    instance: InstanceSummary = _build(InstanceSummary, INSTANCE, reader)
    instance = attrs.evolve(
        instance,
        sop_uid=instance.sop_uid or sop_instance_uid,
        sop_class_uid=instance.sop_class_uid or sop_class_uid,
    )
    return DatasetSummary(
        patient=_build(PatientSummary, PATIENT, reader),
        study=_build(StudySummary, STUDY, reader),
        series=_build(SeriesSummary, SERIES, reader),
        instance=instance,
        charset="\\".join(declared),
        repairs=tuple(reader.repairs),
    )
