"""The study-level C-FIND queries the benchmark times: what a viewer's study search sends."""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.dataset import Dataset

MONTH = "20210301-20210331"
# Keys a study list asks back (empty: return only).
RETURN_KEYS = {
    "PatientName": "PN",
    "PatientID": "LO",
    "PatientBirthDate": "DA",
    "PatientSex": "CS",
    "StudyInstanceUID": "UI",
    "StudyDate": "DA",
    "StudyTime": "TM",
    "AccessionNumber": "SH",
    "StudyID": "SH",
    "StudyDescription": "LO",
    "ReferringPhysicianName": "PN",
    "ModalitiesInStudy": "CS",
    "NumberOfStudyRelatedSeries": "IS",
    "NumberOfStudyRelatedInstances": "IS",
}


@dataclass(frozen=True)
class QueryKind:
    name: str
    label: str
    keys: dict[str, str]  # keyword → matching value

    def identifier(self) -> Dataset:
        ds = Dataset()
        ds.SpecificCharacterSet = "ISO_IR 192"
        ds.QueryRetrieveLevel = "STUDY"
        for keyword, vr in RETURN_KEYS.items():
            ds.add_new(keyword, vr, self.keys.get(keyword, ""))
        return ds

    def values(self) -> dict[str, object]:
        """keyword → value as the C-FIND SCP hands them to `pacs.index.query.plan`."""
        return {keyword: self.keys.get(keyword, "") for keyword in RETURN_KEYS}


def kinds(name_prefix: str) -> list[QueryKind]:
    """``name_prefix``: a family name of the database matching a modest number of studies."""
    return [
        QueryKind("name", f"PatientName={name_prefix}*", {"PatientName": f"{name_prefix}*"}),
        QueryKind("date", f"StudyDate={MONTH}", {"StudyDate": MONTH}),
        QueryKind("modality", "ModalitiesInStudy=MR", {"ModalitiesInStudy": "MR"}),
        QueryKind(
            "combined",
            f"PatientName=W* StudyDate={MONTH} ModalitiesInStudy=MR",
            {"PatientName": "W*", "StudyDate": MONTH, "ModalitiesInStudy": "MR"},
        ),
    ]
