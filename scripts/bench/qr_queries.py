"""The study-level C-FIND queries the benchmark times: what a viewer's study search sends."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pydicom.dataset import Dataset

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


def kinds(stats: dict[str, Any]) -> list[QueryKind]:
    """What a study list sends, with answers of the same size at every index size (see
    qr_index: the archive grows by time at a constant rate): a family-name prefix matching
    about 25 studies, today's studies, MR studies of the last two days, and a name initial
    with MR in the last 30 days."""
    today = dt.datetime.strptime(stats["last_day"], "%Y%m%d").date()
    since = {n: (today - dt.timedelta(days=n)).strftime("%Y%m%d") for n in (1, 29)}
    prefix = stats["name_prefix"]
    return [
        QueryKind("name", f"PatientName={prefix}*", {"PatientName": f"{prefix}*"}),
        QueryKind("date", f"StudyDate={today:%Y%m%d}-", {"StudyDate": f"{today:%Y%m%d}-"}),
        QueryKind(
            "modality",
            f"ModalitiesInStudy=MR StudyDate={since[1]}-",
            {"ModalitiesInStudy": "MR", "StudyDate": f"{since[1]}-"},
        ),
        QueryKind(
            "combined",
            f"PatientName=W* StudyDate={since[29]}- ModalitiesInStudy=MR",
            {"PatientName": "W*", "StudyDate": f"{since[29]}-", "ModalitiesInStudy": "MR"},
        ),
    ]
