"""C-FIND identifiers encoded straight to bytes (pacs.dicom.handlers.identifier) must be the
bytes pydicom writes for the same data set, or be refused so pydicom writes them."""

from __future__ import annotations

from io import BytesIO

import pytest
from pydicom.dataset import Dataset
from pynetdicom import dsutils, service_class

from pacs.dicom.handlers import identifier
from pacs.dicom.handlers.find import ResponseShape
from pacs.dicom.handlers.identifier import EncodedIdentifier, Encoder
from pacs.index.keys import Level

FIELDS = [
    (0x00100010, "PN"),  # PatientName
    (0x00100020, "LO"),  # PatientID
    (0x0020000D, "UI"),  # StudyInstanceUID
    (0x00080020, "DA"),  # StudyDate
    (0x00080061, "CS"),  # ModalitiesInStudy
    (0x00201208, "IS"),  # NumberOfStudyRelatedInstances
    (0x00081030, "LO"),  # StudyDescription
]
FIXED = [(0x00080052, "CS", "STUDY"), (0x00080054, "AE", "PACS")]
ROWS = [
    ["DOE^JOHN", "123", "1.2.3", "20240101", ["CT", "MR"], 12, "HEAD"],
    ["ODD^NAME^X", "1", "1.2.34", None, "US", 7, ""],  # odd lengths: both paddings
    [None, None, None, None, None, None, None],
    ["A" * 64, "B" * 63, "1." + "2" * 61, "20000101", ["CR", "DX", "MG"], 0, "x" * 63],
]


def _reference(values: list[object], fixed: list[tuple[int, str, object]], implicit: bool) -> bytes:
    ds = Dataset()
    for (tag, vr), value in zip(FIELDS, values, strict=True):
        ds.add_new(tag, vr, value)
    for tag, vr, value in fixed:
        ds.add_new(tag, vr, value)
    encoded = dsutils.encode(ds, implicit, True)
    assert encoded is not None
    return encoded


def _bytes(ds: EncodedIdentifier | None) -> bytes:
    assert ds is not None
    return bytes(identifier._encode(ds, ds.__dict__["pacs_encoded"][0], True))


@pytest.mark.parametrize("implicit", [True, False], ids=["implicit", "explicit"])
@pytest.mark.parametrize("values", ROWS, ids=range(len(ROWS)))
def test_same_bytes_as_pydicom(values: list[object], implicit: bool) -> None:
    encoder = Encoder(FIELDS, FIXED, implicit=implicit)
    assert encoder.usable
    assert _bytes(encoder.encode(values)) == _reference(values, FIXED, implicit)


def test_character_set_and_fixed_elements_win_over_requested_ones() -> None:
    fields = [*FIELDS, (0x00080054, "AE")]  # RetrieveAETitle asked for: ours is answered
    fixed = [*FIXED, (0x00080005, "CS", ["", "ISO 2022 IR 87"])]
    encoder = Encoder(fields, fixed, implicit=False)
    got = _bytes(encoder.encode([*ROWS[0], "OTHER"]))
    assert got == _reference(ROWS[0], fixed, implicit=False)
    parsed = dsutils.decode(BytesIO(got), False, True)
    assert parsed.RetrieveAETitle == "PACS"


@pytest.mark.parametrize(
    "value",
    ["张三^李四", "Müller", 1.5, b"raw", ["CT", 3]],
    ids=["chinese", "latin1", "float", "bytes", "mixed-list"],
)
def test_values_pydicom_must_write_are_refused(value: object) -> None:
    encoder = Encoder(FIELDS, FIXED, implicit=True)
    assert encoder.encode([value, *ROWS[0][1:]]) is None


def test_non_text_vr_makes_the_query_use_pydicom() -> None:
    encoder = Encoder([*FIELDS, (0x00081032, "SQ")], FIXED, implicit=True)
    assert not encoder.usable
    assert encoder.encode([*ROWS[0], None]) is None


def test_too_long_for_a_short_length_is_refused() -> None:
    encoder = Encoder([(0x00100010, "PN")], [], implicit=False)
    assert encoder.encode(["A" * 70000]) is None
    assert Encoder([(0x00100010, "PN")], [], implicit=True).encode(["A" * 70000]) is not None


@pytest.mark.parametrize(
    ("implicit", "little", "deflated"),
    [(False, True, False), (False, False, False), (False, True, True)],
    ids=["explicit-LE", "explicit-BE", "deflated"],
)
def test_other_syntax_than_encoded_goes_through_pydicom(
    implicit: bool, little: bool, deflated: bool
) -> None:
    ds = Encoder(FIELDS, FIXED, implicit=True).encode(ROWS[0])
    got = identifier._encode(ds, implicit, little, deflated)
    reference = Dataset()
    for (tag, vr), value in zip(FIELDS, ROWS[0], strict=True):
        reference.add_new(tag, vr, value)
    for tag, vr, value in FIXED:
        reference.add_new(tag, vr, value)
    assert got == dsutils.encode(reference, implicit, little, deflated)


def test_install_leaves_ordinary_datasets_to_pydicom() -> None:
    identifier.install()
    assert service_class.encode is identifier._encode  # type: ignore[attr-defined]
    ds = Dataset()
    ds.PatientName = "DOE^JOHN"
    assert identifier._encode(ds, True, True) == dsutils.encode(ds, True, True)


def _shape(implicit: bool | None) -> ResponseShape:
    query = Dataset()
    query.SpecificCharacterSet = "ISO_IR 192"
    query.QueryRetrieveLevel = "STUDY"
    query.PatientName = ""
    query.AccessionNumber = ""
    return ResponseShape.of(query, Level.STUDY, "PACS", implicit=implicit)


def test_find_response_is_encoded_once_for_ascii_matches() -> None:
    response = _shape(False).response({"PatientName": "DOE^J", "AccessionNumber": "A1"})
    assert isinstance(response, EncodedIdentifier)
    parsed = dsutils.decode(BytesIO(_bytes(response)), False, True)
    assert (parsed.PatientName, parsed.AccessionNumber) == ("DOE^J", "A1")
    assert (parsed.QueryRetrieveLevel, parsed.RetrieveAETitle) == ("STUDY", "PACS")
    assert parsed.SpecificCharacterSet == "ISO_IR 192"


@pytest.mark.parametrize("implicit", [None, False], ids=["big-endian", "explicit"])
def test_find_response_falls_back_to_pydicom(implicit: bool | None) -> None:
    row = {"PatientName": "王^小明", "AccessionNumber": "A1"}
    response = _shape(implicit).response(row)
    assert not isinstance(response, EncodedIdentifier)
    assert response.PatientName == "王^小明"
    assert response.SpecificCharacterSet == "ISO_IR 192"
