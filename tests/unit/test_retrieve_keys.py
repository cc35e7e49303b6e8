"""The pure parts of C-MOVE/C-GET: reading the identifier, and choosing the outbound syntax."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from pacs.dicom.outbound import targets
from pacs.dicom.retrieve_keys import Refused, parse_keys
from pacs.imaging import syntaxes as ts

PATIENT_ROOT_MOVE = "1.2.840.10008.5.1.4.1.2.1.2"
STUDY_ROOT_GET = "1.2.840.10008.5.1.4.1.2.2.3"


def identifier(**values: str) -> Dataset:
    ds = Dataset()
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    return ds


def test_unique_keys_of_the_level_and_above_select() -> None:
    level, keys = parse_keys(
        identifier(
            QueryRetrieveLevel="SERIES",
            PatientID="P1",
            StudyInstanceUID="1.2.3",
            SeriesInstanceUID="1.2.3.4\\1.2.3.5\\1.2.3.4",
            SOPInstanceUID="9.9",  # below the level: ignored
        ),
        PATIENT_ROOT_MOVE,
    )
    assert level == "SERIES"
    assert keys.patient_ids == ("P1",)
    assert keys.study_uids == ("1.2.3",)
    assert keys.series_uids == ("1.2.3.4", "1.2.3.5")  # duplicates dropped, order kept
    assert keys.sop_uids == ()


@pytest.mark.parametrize(
    ("values", "sop_class", "message"),
    [
        ({}, PATIENT_ROOT_MOVE, "Query/Retrieve Level (0008,0052) is missing"),
        ({"QueryRetrieveLevel": "WARD"}, PATIENT_ROOT_MOVE, "'WARD' is not one of the Patient"),
        ({"QueryRetrieveLevel": "PATIENT", "PatientID": "P"}, STUDY_ROOT_GET, "Study Root"),
        ({"QueryRetrieveLevel": "STUDY"}, STUDY_ROOT_GET, "StudyInstanceUID is required"),
    ],
)
def test_bad_identifiers_are_refused_with_0xa900(
    values: dict[str, str], sop_class: str, message: str
) -> None:
    with pytest.raises(Refused, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        parse_keys(identifier(**values), sop_class)
    assert info.value.dimse_status == 0xA900


@pytest.mark.parametrize(
    ("stored", "accepted", "expected"),
    [
        # native first among lossless, then the peer's order
        (ts.JPEG_LS_LOSSLESS, [ts.J2K_LOSSLESS, ts.IMPLICIT_LE, ts.EXPLICIT_LE],
         [ts.EXPLICIT_LE, ts.IMPLICIT_LE, ts.J2K_LOSSLESS]),
        # lossy only when nothing lossless was accepted
        (ts.EXPLICIT_LE, [ts.JPEG_EXTENDED, ts.J2K], [ts.JPEG_EXTENDED, ts.J2K]),
        (ts.EXPLICIT_LE, [ts.J2K, ts.RLE], [ts.RLE]),
        # what cannot be written is never a target; video cannot be converted at all
        (ts.EXPLICIT_LE, [ts.HTJ2K_LOSSLESS_RPCL], []),
        ("1.2.840.10008.1.2.4.102", [ts.EXPLICIT_LE], []),
        ("1.2.3.4", [ts.EXPLICIT_LE], []),
    ],
)  # fmt: skip
def test_outbound_syntax_choice(stored: str, accepted: list[str], expected: list[str]) -> None:
    assert targets(stored, accepted) == expected
