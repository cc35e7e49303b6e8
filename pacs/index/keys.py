"""Which DICOM attributes the index answers, at which level, from which column.

One table serves every query edge (C-FIND, QIDO-RS, the REST API): a key a query names is either
here (matched and returned from the index) or not (returned empty, never matched: the index is
the only thing a query reads)."""

from __future__ import annotations

import enum

import attrs
from sqlalchemy import Column, Table

from pacs.index.names import PATIENT_NAME
from pacs.index.statements import INSTANCE, PATIENT, SERIES, STUDY


class Level(enum.IntEnum):
    PATIENT = 0
    STUDY = 1
    SERIES = 2
    IMAGE = 3


TABLES: dict[Level, Table] = {
    Level.PATIENT: PATIENT,
    Level.STUDY: STUDY,
    Level.SERIES: SERIES,
    Level.IMAGE: INSTANCE,
}
UNIQUE_KEYS = {
    Level.PATIENT: "PatientID",
    Level.STUDY: "StudyInstanceUID",
    Level.SERIES: "SeriesInstanceUID",
    Level.IMAGE: "SOPInstanceUID",
}


@attrs.frozen(kw_only=True)
class Key:
    keyword: str
    level: Level
    column: str
    vr: str
    search: str = ""  # the normalised column matched instead (names), if any
    groups: tuple[str, ...] = ()  # ``search`` cut into component groups (`pacs.index.names`)
    multi: bool = False  # a backslash-joined list of values (ModalitiesInStudy)
    matchable: bool = True  # counts are returned, never matched

    def col(self, *, normalised: bool = False) -> Column[object]:
        table = TABLES[self.level]
        name = self.search if normalised and self.search else self.column
        column: Column[object] = table.c[name]
        return column

    def group_cols(self) -> tuple[Column[object], ...]:
        """The component groups of the normalised column, as columns ((): none stored)."""
        table = TABLES[self.level]
        return tuple(table.c[name] for name in self.groups)


def _k(level: Level, keyword: str, column: str, vr: str, **kw: object) -> Key:
    return Key(keyword=keyword, level=level, column=column, vr=vr, **kw)  # type: ignore[arg-type]


P, ST, SE, IM = Level.PATIENT, Level.STUDY, Level.SERIES, Level.IMAGE
COUNT = {"matchable": False}

KEYS: dict[str, Key] = {
    k.keyword: k
    for k in (
        _k(P, "PatientID", "patient_id", "LO"),
        _k(P, "IssuerOfPatientID", "issuer", "LO"),
        _k(P, "PatientName", "name", "PN", search=PATIENT_NAME.norm, groups=PATIENT_NAME.groups),
        _k(P, "PatientBirthDate", "birth_date", "DA"),
        _k(P, "PatientBirthTime", "birth_time", "TM"),
        _k(P, "PatientSex", "sex", "CS"),
        _k(P, "OtherPatientIDs", "other_ids", "LO"),
        _k(P, "PatientComments", "comments", "LT"),
        _k(P, "NumberOfPatientRelatedStudies", "num_studies", "IS", **COUNT),
        _k(P, "NumberOfPatientRelatedSeries", "num_series", "IS", **COUNT),
        _k(P, "NumberOfPatientRelatedInstances", "num_instances", "IS", **COUNT),
        _k(ST, "StudyInstanceUID", "study_uid", "UI"),
        _k(ST, "StudyDate", "study_date", "DA"),
        _k(ST, "StudyTime", "study_time", "TM"),
        _k(ST, "AccessionNumber", "accession_number", "SH"),
        _k(ST, "StudyID", "study_id", "SH"),
        _k(ST, "StudyDescription", "description", "LO"),
        _k(ST, "ReferringPhysicianName", "referring_physician", "PN",
           search="referring_physician_norm"),
        _k(ST, "NameOfPhysiciansReadingStudy", "reading_physicians", "PN"),
        _k(ST, "InstitutionName", "institution", "LO"),
        _k(ST, "PatientAge", "patient_age", "AS"),
        _k(ST, "PatientSize", "patient_size", "DS"),
        _k(ST, "PatientWeight", "patient_weight", "DS"),
        _k(ST, "TimezoneOffsetFromUTC", "timezone_offset", "SH"),
        _k(ST, "ModalitiesInStudy", "modalities", "CS", multi=True),
        _k(ST, "SOPClassesInStudy", "sop_classes", "UI", multi=True),
        _k(ST, "NumberOfStudyRelatedSeries", "num_series", "IS", **COUNT),
        _k(ST, "NumberOfStudyRelatedInstances", "num_instances", "IS", **COUNT),
        _k(SE, "SeriesInstanceUID", "series_uid", "UI"),
        _k(SE, "Modality", "modality", "CS"),
        _k(SE, "SeriesNumber", "series_number", "IS"),
        _k(SE, "SeriesDescription", "description", "LO"),
        _k(SE, "SeriesDate", "series_date", "DA"),
        _k(SE, "SeriesTime", "series_time", "TM"),
        _k(SE, "BodyPartExamined", "body_part", "CS"),
        _k(SE, "Laterality", "laterality", "CS"),
        _k(SE, "ProtocolName", "protocol_name", "LO"),
        _k(SE, "StationName", "station_name", "SH"),
        _k(SE, "Manufacturer", "manufacturer", "LO"),
        _k(SE, "ManufacturerModelName", "model_name", "LO"),
        _k(SE, "PerformingPhysicianName", "performing_physician", "PN"),
        _k(SE, "PerformedProcedureStepStartDate", "pps_start_date", "DA"),
        _k(SE, "PerformedProcedureStepStartTime", "pps_start_time", "TM"),
        _k(SE, "NumberOfSeriesRelatedInstances", "num_instances", "IS", **COUNT),
        _k(IM, "SOPInstanceUID", "sop_uid", "UI"),
        _k(IM, "SOPClassUID", "sop_class_uid", "UI"),
        _k(IM, "InstanceNumber", "instance_number", "IS"),
        _k(IM, "ContentDate", "content_date", "DA"),
        _k(IM, "ContentTime", "content_time", "TM"),
        _k(IM, "AcquisitionDateTime", "acquisition_datetime", "DT"),
        _k(IM, "ImageType", "image_type", "CS", multi=True),
        _k(IM, "Rows", "rows", "US"),
        _k(IM, "Columns", "columns", "US"),
        _k(IM, "BitsAllocated", "bits_allocated", "US"),
        _k(IM, "NumberOfFrames", "number_of_frames", "IS"),
        _k(IM, "PhotometricInterpretation", "photometric", "CS"),
        _k(IM, "AvailableTransferSyntaxUID", "transfer_syntax", "UI"),
    )
}  # fmt: skip

# Date and time keys matched together as one date-time range (PS3.4 C.2.2.2.5.1).
DATE_TIME_PAIRS = (
    ("StudyDate", "StudyTime"),
    ("SeriesDate", "SeriesTime"),
    ("ContentDate", "ContentTime"),
    ("PerformedProcedureStepStartDate", "PerformedProcedureStepStartTime"),
    ("PatientBirthDate", "PatientBirthTime"),
)
