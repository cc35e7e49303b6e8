"""De-identification: table rows, sequences, private tags, UID mapping, options, file meta."""

from __future__ import annotations

import copy
import re

import pytest
from pydicom.datadict import dictionary_keyword, dictionary_VR
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.tag import Tag
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from pacs.errors import ImagingError
from pacs.imaging import deid_table
from pacs.imaging.deid import DeidOptions, action_for, deidentify, new_uid, pseudonym, resolve
from tests import dicomgen

pytestmark = [pytest.mark.filterwarnings("error::DeprecationWarning")]

SECRET = "test-secret"
OPTS = DeidOptions(secret=SECRET)
UID_RE = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")
MARKERS = {0x00120062, 0x00120063, 0x00120064, 0x00280303}  # what deidentify itself adds
TEXT = "Secret value"
SAMPLE = {
    "AE": "STATION7",
    "AS": "045Y",
    "CS": "SECRETCS",
    "DA": "20240102",
    "DT": "20240102030405",
    "TM": "030405",
    "DS": "1.5",
    "IS": "7",
    "PN": "Secret^Person",
    "UI": "1.2.3.4.5.6.7",
    "UR": "http://secret.example/x",
    "FL": 1.5,
    "FD": 1.5,
    "AT": 0x00100010,
    **dict.fromkeys(("LO", "LT", "SH", "ST", "UT", "UC"), TEXT),
    **dict.fromkeys(("SL", "SS", "UL", "US", "SV", "UV"), 7),
    **dict.fromkeys(("OB", "OW", "OD", "OF", "OL", "OV", "UN"), bytes(range(1, 9))),
}
# Rows set on a data set: the command (0000) and file meta (0002) groups live elsewhere.
DATA_ROWS = [row for row in deid_table.ROWS if row[0] >> 16 not in (0x0000, 0x0002)]


def _code_item(value: str = "SECRET", meaning: str = "Secret meaning") -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "99LOCAL", meaning
    return item


def _image_ref(sop: str, cls: str = dicomgen.CT_IMAGE) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID, item.ReferencedSOPInstanceUID = cls, sop
    return item


def _set_sample(ds: Dataset, tag: int, basic: str) -> None:
    vr = dictionary_VR(tag).split(" or ")[0]
    if vr == "SQ":
        item = _image_ref("1.2.3.9") if basic == "X/Z/U*" else _code_item()
        ds.add_new(tag, "SQ", Sequence([item]))
    else:
        ds.add_new(tag, vr, SAMPLE[vr])


def _rich() -> Dataset:
    """A CT carrying a sample value for every row of the table."""
    ds = dicomgen.make_ct()
    for tag, _kw, basic, *_ in DATA_ROWS:
        _set_sample(ds, tag, basic)
    return ds


def _empty(value: object) -> bool:
    return value is None or value in ("", b"") or (hasattr(value, "__len__") and not value)


def test_table_rows_are_well_formed() -> None:
    tags = [row[0] for row in deid_table.ROWS]
    assert len(tags) >= 400
    assert tags == sorted(set(tags)), "rows sorted by tag, no duplicates"
    actions = {"D", "Z", "X", "K", "C", "U", "X/Z", "X/D", "Z/D", "X/Z/D", "X/Z/U*"}
    for tag, keyword, basic, uids, device, dates in deid_table.ROWS:
        assert dictionary_keyword(tag) == keyword, hex(tag)  # tag and keyword agree
        assert basic in actions and {uids, device, dates} <= {"", "K"}, keyword
        if "U" in basic:
            assert uids == "K", keyword
        if dictionary_VR(tag) in ("DA", "TM", "DT") and dates != "K":
            assert keyword in ("PatientBirthDate", "PatientBirthTime")


@pytest.mark.parametrize(
    ("action", "vr", "expected"),
    [
        ("X", "LO", "X"),
        ("Z", "DA", "Z"),
        ("X/Z", "DA", "Z"),
        ("X/Z", "SQ", "Z"),
        ("X/D", "DT", "D"),
        ("Z/D", "DA", "D"),
        ("X/Z/D", "LO", "D"),
        ("X/Z/D", "SQ", "D"),
        ("X/Z/U*", "SQ", "K"),
        ("X/Z/U*", "UI", "U"),
    ],
)
def test_combined_actions_resolve_to_a_valid_choice(action: str, vr: str, expected: str) -> None:
    assert resolve(action, vr) == expected


def test_unknown_action_is_an_imaging_error() -> None:
    with pytest.raises(ImagingError, match="unknown"):
        resolve("Q", "LO")


@pytest.mark.parametrize("row", DATA_ROWS, ids=[row[1] for row in DATA_ROWS])
def test_each_table_row_is_applied(row: deid_table.Row) -> None:
    tag, keyword, basic = row[0], row[1], row[2]
    ds = dicomgen.make_ct()
    _set_sample(ds, tag, basic)
    original = copy.deepcopy(ds[tag].value)
    out = deidentify(ds, OPTS)
    action = resolve(basic, ds[tag].VR)
    if action == "X":
        assert tag not in out
        return
    value = out[tag].value
    if action == "Z" and keyword not in ("PatientID", "PatientName"):
        assert _empty(value)
    elif action == "U":
        assert value != original and value.startswith("2.25.")
    elif action == "D" and ds[tag].VR == "SQ":
        assert [str(i.CodeValue) for i in value] == ["ANONYMIZED"]
    elif action == "D":
        assert not _empty(value) and value != original
    elif action == "K":  # image references: kept, the instance UID inside replaced
        assert value[0].ReferencedSOPInstanceUID == new_uid("1.2.3.9", SECRET)
        assert value[0].ReferencedSOPClassUID == dicomgen.CT_IMAGE


@pytest.mark.parametrize(
    ("keyword", "expected"),
    [  # read from the standard, independently of the table module
        ("PatientName", "pseudonym"),
        ("PatientID", "pseudonym"),
        ("PatientBirthDate", ""),
        ("PatientSex", ""),
        ("AccessionNumber", ""),
        ("StudyDate", ""),
        ("StudyID", ""),
        ("ReferringPhysicianName", ""),
        ("InstitutionName", "ANONYMIZED"),
        ("OperatorsName", "ANONYMIZED"),
        ("StationName", "ANONYMIZED"),
        ("ProtocolName", "ANONYMIZED"),
        ("SeriesDate", "19000101"),
        ("ContentTime", "000000"),
        ("OtherPatientIDs", None),
        ("PatientAddress", None),
        ("PatientAge", None),
        ("StudyDescription", None),
        ("SeriesDescription", None),
        ("ImageComments", None),
        ("InstitutionAddress", None),
        ("Manufacturer", "kept"),
        ("BodyPartExamined", "kept"),
        ("SliceThickness", "kept"),
    ],
)
def test_known_attributes(keyword: str, expected: str | None) -> None:
    ds = dicomgen.make_ct(InstitutionName="General", OperatorsName="Op^One", ProtocolName="P1")
    for kw in ("StationName", "SeriesDate", "ContentTime", "OtherPatientIDs", "PatientAddress"):
        setattr(ds, kw, SAMPLE[dictionary_VR(kw)] if kw != "SeriesDate" else "20240101")
    ds.PatientAge, ds.SeriesDescription, ds.ImageComments = "045Y", "Ser", "Comment"
    ds.InstitutionAddress, ds.Manufacturer, ds.BodyPartExamined = "Street 1", "ACME", "CHEST"
    ds.SliceThickness, ds.ReferringPhysicianName = "2.5", "Ref^Doc"
    out = deidentify(ds, OPTS)
    if expected is None:
        assert keyword not in out
    elif expected == "pseudonym":
        assert str(out.get(keyword)) == pseudonym("PAT001", SECRET)
    elif expected == "kept":
        assert out[keyword].value == ds[keyword].value
    else:
        assert str(out[keyword].value) == expected


def test_sequences_are_processed_at_every_depth() -> None:
    ds = dicomgen.make_ct()
    request = Dataset()
    request.RequestedProcedureID, request.StudyInstanceUID = "RP1", ds.StudyInstanceUID
    ds.RequestAttributesSequence = Sequence([request])
    ds.ReferencedStudySequence = Sequence([_image_ref(ds.StudyInstanceUID)])
    series = Dataset()
    series.SeriesInstanceUID = ds.SeriesInstanceUID
    series.ReferencedInstanceSequence = Sequence([_image_ref("1.2.3.10")])
    series.InstitutionName, series.OtherPatientIDs = "Hospital", "OLD-ID"
    ds.ReferencedSeriesSequence = Sequence([series])  # not listed: kept, items walked
    ds.InstitutionCodeSequence = Sequence([_code_item("MGH", "General Hospital")])
    out = deidentify(ds, OPTS)

    assert "RequestAttributesSequence" not in out  # X: gone with its UIDs
    assert len(out.ReferencedStudySequence) == 0  # X/Z -> Z: emptied
    inner = out.ReferencedSeriesSequence[0]
    assert inner.SeriesInstanceUID == out.SeriesInstanceUID  # same mapping as the top level
    assert inner.ReferencedInstanceSequence[0].ReferencedSOPInstanceUID == new_uid(
        "1.2.3.10", SECRET
    )
    assert inner.InstitutionName == "ANONYMIZED" and "OtherPatientIDs" not in inner
    code = out.InstitutionCodeSequence[0]  # X/Z/D -> D: shape kept, text replaced
    assert (code.CodeValue, code.CodeMeaning) == ("ANONYMIZED", "ANONYMIZED")


def test_private_attributes_removed_unless_kept() -> None:
    ds = dicomgen.make_ct()
    block = ds.private_block(0x0009, "ACME 1.0", create=True)
    block.add_new(0x10, "LO", "private name")
    item = Dataset()
    item.private_block(0x0011, "ACME 1.0", create=True).add_new(0x01, "LO", "nested")
    ds.ReferencedSeriesSequence = Sequence([item])
    out = deidentify(ds, OPTS)
    assert not any(elem.tag.is_private for elem in out.iterall())

    kept = deidentify(ds, DeidOptions(secret=SECRET, keep_private=True))
    assert kept.private_block(0x0009, "ACME 1.0")[0x10].value == "private name"
    assert kept.ReferencedSeriesSequence[0][0x00111001].value == "nested"
    assert "113111" in [i.CodeValue for i in kept.DeidentificationMethodCodeSequence]


def test_curves_and_overlay_planes_are_removed() -> None:
    ds = dicomgen.make_ct()
    ds.add_new(0x50000010, "US", 2)  # curve dimensions
    ds.add_new(0x50003000, "OW", bytes(8))
    ds.add_new(0x60000010, "US", 32)  # overlay plane 0: with its data
    ds.add_new(0x60003000, "OW", bytes(128))
    ds.add_new(0x60020022, "LO", "plane without data")  # overlay plane 1: description only
    ds.add_new(0x60024000, "LT", "overlay comment")
    out = deidentify(ds, OPTS)
    assert not [e.tag for e in out if e.tag.group in (0x5000, 0x6000)]
    assert 0x60020022 in out and 0x60024000 not in out


def test_uid_mapping_helper() -> None:
    uid = generate_uid()
    mapped = new_uid(uid, SECRET)
    assert mapped == new_uid(uid + "\0", SECRET) == new_uid(uid, SECRET.encode())
    assert mapped != new_uid(uid, "other") and mapped != new_uid(uid + "1", SECRET)
    assert mapped.startswith("2.25.") and len(mapped) <= 64 and UID_RE.match(mapped)
    assert new_uid(ExplicitVRLittleEndian, SECRET) == ExplicitVRLittleEndian
    assert new_uid("", SECRET) == ""


def test_uids_are_consistent_across_one_study() -> None:
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    first = dicomgen.make_ct(study=study, series=series, FrameOfReferenceUID=frame)
    second = dicomgen.make_ct(study=study, series=series, FrameOfReferenceUID=frame, number=2)
    second.SourceImageSequence = Sequence([_image_ref(first.SOPInstanceUID)])
    a, b = deidentify(first, OPTS), deidentify(second, OPTS)
    assert a.StudyInstanceUID == b.StudyInstanceUID != study
    assert a.SeriesInstanceUID == b.SeriesInstanceUID != series
    assert a.FrameOfReferenceUID == b.FrameOfReferenceUID != frame
    assert a.SOPInstanceUID != b.SOPInstanceUID
    assert b.SourceImageSequence[0].ReferencedSOPInstanceUID == a.SOPInstanceUID
    again = deidentify(first, DeidOptions(secret=SECRET))
    assert again.SOPInstanceUID == a.SOPInstanceUID  # a later run agrees
    other = deidentify(first, DeidOptions(secret="another secret"))
    assert other.StudyInstanceUID != a.StudyInstanceUID
    assert other.SOPInstanceUID != a.SOPInstanceUID


def test_well_known_and_class_uids_are_untouched() -> None:
    private_class = "1.3.6.1.4.1.99999.1.1"
    ds = dicomgen.make_ct(SOPClassUID=private_class)
    ds.ReferencedImageSequence = Sequence([_image_ref("1.2.3.11")])
    ds.RetrieveLocationUID = "1.2.3.12"  # not listed: an instance UID all the same
    out = deidentify(ds, OPTS)
    assert out.SOPClassUID == private_class
    assert out.ReferencedImageSequence[0].ReferencedSOPClassUID == dicomgen.CT_IMAGE
    assert out.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert out.RetrieveLocationUID == new_uid("1.2.3.12", SECRET)


def _changed(one: Dataset, two: Dataset) -> set[int]:
    tags = set(map(int, one.keys())) | set(map(int, two.keys()))
    return {t for t in tags - MARKERS if one.get(t) != two.get(t)}


@pytest.mark.parametrize(
    ("option", "column", "code"),
    [("keep_uids", 3, "113110"), ("keep_device", 4, "113109"), ("keep_dates", 5, "113106")],
)
def test_each_option_changes_exactly_its_rows(option: str, column: int, code: str) -> None:
    ds = _rich()
    plain = deidentify(ds, OPTS)
    kept = deidentify(ds, DeidOptions(secret=SECRET, **{option: True}))
    expected = {row[0] for row in DATA_ROWS if row[column] == "K" and row[2] != "K"}
    assert expected and _changed(plain, kept) == expected
    assert all(kept[t].value == ds[t].value for t in expected if ds[t].VR != "SQ")
    assert code in [str(i.CodeValue) for i in kept.DeidentificationMethodCodeSequence]
    assert code not in [str(i.CodeValue) for i in plain.DeidentificationMethodCodeSequence]


def test_keep_dates_and_uids_keep_what_they_say() -> None:
    ds = dicomgen.make_ct(SeriesDate="20240101", AcquisitionTime="101010")
    out = deidentify(ds, DeidOptions(secret=SECRET, keep_dates=True, keep_uids=True))
    assert (out.StudyDate, out.SeriesDate, out.AcquisitionTime) == (
        "20240305",
        "20240101",
        "101010",
    )
    assert out.PatientBirthDate == ""  # identity, not longitudinal time
    assert out.LongitudinalTemporalInformationModified == "UNMODIFIED"
    assert out.SOPInstanceUID == ds.SOPInstanceUID
    assert out.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert deidentify(ds, OPTS).LongitudinalTemporalInformationModified == "REMOVED"


def test_patient_pseudonym_and_overrides() -> None:
    ds = dicomgen.make_ct(patient_id="MRN-1", IssuerOfPatientID="HOSP")
    out = deidentify(ds, OPTS)
    assert out.PatientID == pseudonym("MRN-1", SECRET, "HOSP") == out.PatientName
    assert out.PatientID != deidentify(ds, DeidOptions(secret="x")).PatientID
    assert out.PatientID != deidentify(dicomgen.make_ct(patient_id="MRN-2"), OPTS).PatientID
    named = deidentify(ds, DeidOptions(secret=SECRET, patient_id="SUBJ-7", patient_name="Subj^7"))
    assert (named.PatientID, named.PatientName) == ("SUBJ-7", "Subj^7")
    assert deidentify(dicomgen.make_ct(patient_id=""), OPTS).PatientID == ""


def test_identity_removed_markers() -> None:
    out = deidentify(dicomgen.make_ct(), DeidOptions(secret=SECRET, keep_device=True))
    assert out.PatientIdentityRemoved == "YES"
    codes = [
        (i.CodeValue, i.CodingSchemeDesignator) for i in out.DeidentificationMethodCodeSequence
    ]
    assert codes == [("113100", "DCM"), ("113109", "DCM")]
    assert list(out.DeidentificationMethod) == [
        "Basic Application Confidentiality Profile",
        "Retain Device Identity Option",
    ]
    twice = deidentify(out, OPTS)  # history kept, nothing listed twice
    assert [i.CodeValue for i in twice.DeidentificationMethodCodeSequence] == ["113100", "113109"]


def test_file_meta_follows_and_pixels_are_shared() -> None:
    ds = dicomgen.make_ct()
    ds.file_meta.SourceApplicationEntityTitle = "CT_ROOM_3"
    out = deidentify(ds, OPTS)
    assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID != ds.SOPInstanceUID
    assert out.file_meta.MediaStorageSOPClassUID == ds.SOPClassUID
    assert "SourceApplicationEntityTitle" not in out.file_meta
    assert out.PixelData is ds.PixelData  # shared, not copied
    keep = deidentify(ds, DeidOptions(secret=SECRET, keep_device=True))
    assert keep.file_meta.SourceApplicationEntityTitle == "CT_ROOM_3"


def test_the_input_is_not_modified() -> None:
    ds = _rich()
    ds.file_meta.SourceApplicationEntityTitle = "CT_ROOM_3"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.private_block(0x0009, "ACME 1.0", create=True).add_new(0x10, "LO", "private")
    before = copy.deepcopy(ds)
    out = deidentify(ds, OPTS)
    assert ds == before and ds.file_meta == before.file_meta
    out.ReferencedImageSequence[0].ReferencedSOPInstanceUID = "9.9"
    out.ImageType[0] = "DERIVED"  # values are copies, not shared lists
    assert ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID == "1.2.3.9"
    assert ds.ImageType[0] == "ORIGINAL"


def test_impossible_input_is_an_imaging_error() -> None:
    with pytest.raises(ImagingError, match="not a DICOM data set"):
        deidentify("not a dataset", OPTS)  # type: ignore[arg-type]
    with pytest.raises(ImagingError, match="secret"):
        DeidOptions(secret="")
    ds = dicomgen.make_ct()
    raw = RawDataElement(Tag(0x00280010), "US", 3, b"\x01\x02\x03", 0, False, True)
    ds._dict[raw.tag] = raw  # a value of the wrong length, as read from a damaged file
    with pytest.raises(ImagingError, match="cannot de-identify"):
        deidentify(ds, OPTS)


def test_action_lookup() -> None:
    assert action_for(0x00100010, OPTS) == "Z"
    assert action_for(0x00080020, DeidOptions(secret=SECRET, keep_dates=True)) == "K"
    assert action_for(0x50020010, OPTS) == "X"  # curve range
    assert action_for(0x00080060, OPTS) is None  # Modality: not listed
