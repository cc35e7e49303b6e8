"""pacs.model.summary.summarize over headers read back from files written by tests.dicomgen."""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.datadict import tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRBigEndian, ImplicitVRLittleEndian

from pacs.errors import MissingAttribute
from pacs.messages import CharsetRepair, InstanceSummary, PatientSummary, SeriesSummary
from pacs.model.summary import summarize
from tests.dicomgen import CT_IMAGE, SECONDARY_CAPTURE, make_ct, write

pytestmark = [  # no warning may leak from decoding (pydicom warns with UserWarning)
    pytest.mark.filterwarnings("error::UserWarning"),
    pytest.mark.filterwarnings("error::DeprecationWarning"),
]

STUDY, SERIES, SOP = "1.2.826.0.1.1", "1.2.826.0.1.1.2", "1.2.826.0.1.1.2.3"


def _raw(ds: Dataset, keyword: str, vr: str, value: bytes) -> None:
    """Put bytes into the file exactly as given (no encoding, no validation by pydicom)."""
    tag = tag_for_keyword(keyword)
    assert tag is not None
    ds[tag] = RawDataElement(tag, vr, len(value), value, 0, False, True)  # type: ignore[assignment]


def _header(folder: Path, ds: Dataset, name: str = "x.dcm") -> Dataset:
    """Write and read back; pydicom's own warnings about deliberately bad values are silenced
    here so that any warning from summarize itself fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dcmread(write(ds, folder / name), stop_before_pixels=True)


def _full(**extra: object) -> Dataset:
    ds = make_ct(study=STUDY, series=SERIES, sop=SOP, number=7, rows=260, columns=24, **extra)
    ds.IssuerOfPatientID = "HOSP"
    ds.PatientBirthTime = "0830"
    ds.OtherPatientIDs = ["X1", "X2"]
    ds.PatientComments = "allergic"
    ds.StudyTime = "1015"
    ds.ReferringPhysicianName = "Ref^Rita"
    ds.NameOfPhysiciansReadingStudy = ["Read^A", "Read^B"]
    ds.InstitutionName = "General"
    ds.PatientAge = "045Y"
    ds.PatientSize = "1.75"
    ds.PatientWeight = "72.5"
    ds.TimezoneOffsetFromUTC = "+0100"
    ds.SeriesNumber = 3
    ds.SeriesDescription = "Axial"
    ds.SeriesDate = "20240306"
    ds.SeriesTime = "101530.123"
    ds.BodyPartExamined = "CHEST"
    ds.Laterality = "R"
    ds.ProtocolName = "Thorax"
    ds.StationName = "CT01"
    ds.Manufacturer = "Acme"
    ds.ManufacturerModelName = "Scan 9"
    ds.PerformingPhysicianName = "Perf^Paul"
    ds.PerformedProcedureStepStartDate = "20240305"
    ds.PerformedProcedureStepStartTime = "0930"
    ds.ContentDate = "20240305"
    ds.ContentTime = "101531"
    ds.AcquisitionDateTime = "20240305101530"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.NumberOfFrames = 1
    return ds


def test_every_level_field(tmp_path: Path) -> None:
    summary = summarize(_header(tmp_path, _full()))
    assert summary.patient == PatientSummary(
        patient_id="PAT001",
        issuer="HOSP",
        name="Doe^John",
        birth_date=dt.date(1970, 1, 1),
        birth_time="083000",
        sex="M",
        other_ids="X1\\X2",
        comments="allergic",
    )
    study = summary.study
    assert (study.study_uid, study.study_date, study.study_time) == (
        STUDY,
        dt.date(2024, 3, 5),
        "101500",
    )
    assert (study.accession_number, study.study_id, study.description) == ("ACC1", "1", "Chest")
    assert study.referring_physician == "Ref^Rita"
    assert study.reading_physicians == "Read^A\\Read^B"
    assert (study.institution, study.patient_age) == ("General", "045Y")
    assert (study.patient_size, study.patient_weight) == (1.75, 72.5)
    assert study.timezone_offset == "+0100"
    assert summary.series == SeriesSummary(
        series_uid=SERIES,
        modality="CT",
        series_number=3,
        description="Axial",
        series_date=dt.date(2024, 3, 6),
        series_time="101530.123",
        body_part="CHEST",
        laterality="R",
        protocol_name="Thorax",
        station_name="CT01",
        manufacturer="Acme",
        model_name="Scan 9",
        performing_physician="Perf^Paul",
        pps_start_date=dt.date(2024, 3, 5),
        pps_start_time="093000",
    )
    assert summary.instance == InstanceSummary(
        sop_uid=SOP,
        sop_class_uid=CT_IMAGE,
        instance_number=7,
        content_date=dt.date(2024, 3, 5),
        content_time="101531",
        acquisition_datetime="20240305101530",
        image_type="ORIGINAL\\PRIMARY\\AXIAL",
        rows=260,
        columns=24,
        bits_allocated=16,
        number_of_frames=1,
        photometric="MONOCHROME2",
    )
    assert summary.charset == ""
    assert summary.repairs == ()


@pytest.mark.parametrize(
    ("keyword", "vr", "raw", "expected"),
    [
        ("StudyTime", "TM", b"10", "100000"),
        ("StudyTime", "TM", b"101530.5", "101530.5"),
        ("StudyTime", "TM", b"10:15:30", "101530"),
        ("StudyTime", "TM", b"2500", None),
        ("StudyTime", "TM", b"", None),
        ("StudyDate", "DA", b"2024.03.05", dt.date(2024, 3, 5)),
        ("StudyDate", "DA", b"20241340", None),
        ("StudyDate", "DA", b"yesterday ", None),
        ("PatientWeight", "DS", b" 72.5 ", 72.5),
        ("PatientWeight", "DS", b"1e2 ", 100.0),
        ("PatientWeight", "DS", b"abc ", None),
        ("PatientSize", "DS", b"1.8\\1.9 ", 1.8),
        ("SeriesNumber", "IS", b"+12 ", 12),
        ("SeriesNumber", "IS", b"1.5 ", None),
        ("ImageType", "CS", b"ORIGINAL \\PRIMARY\\\\AXIAL ", "ORIGINAL\\PRIMARY\\AXIAL"),
        ("Modality", "CS", b"MR", "MR"),
    ],
)
def test_values_are_normalised(
    tmp_path: Path, keyword: str, vr: str, raw: bytes, expected: object
) -> None:
    ds = make_ct(study=STUDY, series=SERIES, sop=SOP)
    _raw(ds, keyword, vr, raw)
    summary = summarize(_header(tmp_path, ds))
    field = {
        "StudyTime": summary.study.study_time,
        "StudyDate": summary.study.study_date,
        "PatientWeight": summary.study.patient_weight,
        "PatientSize": summary.study.patient_size,
        "SeriesNumber": summary.series.series_number,
        "ImageType": summary.instance.image_type,
        "Modality": summary.series.modality,
    }[keyword]
    assert field == expected


def test_missing_optional_values_are_empty(tmp_path: Path) -> None:
    summary = summarize(_header(tmp_path, make_ct(study_date=None)))
    assert summary.study.study_date is None
    assert summary.study.patient_weight is None
    assert summary.instance.number_of_frames is None
    assert summary.patient.issuer == ""


@pytest.mark.parametrize("keyword", ["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"])
@pytest.mark.parametrize("how", ["absent", "empty"])
def test_missing_level_uid(tmp_path: Path, keyword: str, how: str) -> None:
    ds = make_ct()
    if how == "absent":
        delattr(ds, keyword)
    else:
        setattr(ds, keyword, "")
    header = _header(tmp_path, ds)
    with pytest.raises(MissingAttribute) as info:
        summarize(header)
    assert keyword in info.value.message


def test_command_uids_stand_in_for_missing_ones(tmp_path: Path) -> None:
    ds = make_ct(study=STUDY, series=SERIES)
    del ds.SOPInstanceUID
    del ds.SOPClassUID
    header = _header(tmp_path, ds)
    summary = summarize(header, sop_class_uid=SECONDARY_CAPTURE, sop_instance_uid="1.2.3.4")
    assert summary.instance.sop_uid == "1.2.3.4"
    assert summary.instance.sop_class_uid == SECONDARY_CAPTURE
    del header.StudyInstanceUID
    with pytest.raises(MissingAttribute) as info:
        summarize(header, sop_instance_uid="1.2.3.4")
    assert "StudyInstanceUID" in info.value.message


def test_dataset_uids_win_over_command_uids(tmp_path: Path) -> None:
    header = _header(tmp_path, make_ct(sop=SOP))
    summary = summarize(header, sop_class_uid=SECONDARY_CAPTURE, sop_instance_uid="9.9")
    assert (summary.instance.sop_uid, summary.instance.sop_class_uid) == (SOP, CT_IMAGE)


def test_gb18030_bytes_under_latin1_are_repaired(tmp_path: Path) -> None:
    ds = make_ct(SpecificCharacterSet="ISO_IR 100")
    _raw(ds, "PatientName", "PN", "张三".encode("gb18030"))
    _raw(ds, "StudyDescription", "LO", "胸部增强".encode("gb18030"))
    header = _header(tmp_path, ds)
    summary = summarize(header)
    assert summary.patient.name == "张三"
    assert summary.study.description == "胸部增强"
    assert summary.charset == "ISO_IR 100"
    assert summary.repairs == (
        CharsetRepair(keyword="PatientName", declared="ISO_IR 100", used="GB18030", text="张三"),
        CharsetRepair(
            keyword="StudyDescription", declared="ISO_IR 100", used="GB18030", text="胸部增强"
        ),
    )
    unrepaired = summarize(header, fallbacks=())
    assert unrepaired.patient.name == "张三".encode("gb18030").decode("latin-1")
    assert unrepaired.repairs == ()


def test_gb18030_bytes_without_declared_charset_are_repaired(tmp_path: Path) -> None:
    ds = make_ct()
    _raw(ds, "PatientName", "PN", "王^小明".encode("gb18030"))
    summary = summarize(_header(tmp_path, ds))
    assert summary.patient.name == "王^小明"
    assert [(r.keyword, r.declared, r.used) for r in summary.repairs] == [
        ("PatientName", "", "GB18030")
    ]


@pytest.mark.parametrize(
    ("charset", "name"),
    [
        (["", "ISO 2022 IR 87"], "Yamada^Tarou=山田^太郎=やまだ^たろう"),
        (["", "ISO 2022 IR 149"], "Hong^Gildong=洪^吉洞=홍^길동"),
        ("ISO_IR 100", "Müller^José"),
        ("ISO_IR 192", "Müller^张三"),
        ("GB18030", "张^三"),
    ],
)
def test_declared_charsets_are_decoded_not_repaired(
    tmp_path: Path, charset: str | list[str], name: str
) -> None:
    header = _header(tmp_path, make_ct(SpecificCharacterSet=charset, patient_name=name))
    raw = header.get_item(0x00100010).value
    assert isinstance(raw, bytes) and raw != name.encode("ascii", "ignore")
    summary = summarize(header)
    assert summary.patient.name == name
    assert summary.repairs == ()
    assert summary.charset == (charset if isinstance(charset, str) else "\\".join(charset))


@pytest.mark.parametrize("syntax", [ImplicitVRLittleEndian, ExplicitVRBigEndian])
def test_other_transfer_syntaxes_give_the_same_summary(tmp_path: Path, syntax: str) -> None:
    reference = summarize(_header(tmp_path, _full(), "explicit.dcm"))
    ds = _full()
    ds.file_meta.TransferSyntaxUID = syntax
    header = _header(tmp_path, ds, "other.dcm")
    assert header.original_encoding != (False, True)
    summary = summarize(header)
    assert summary == reference
    assert (summary.instance.rows, summary.instance.columns) == (260, 24)


def test_converted_elements_give_the_same_summary(tmp_path: Path) -> None:
    """Values pydicom already converted (str, PersonName, MultiValue, int) read as the raw ones."""
    header = _header(tmp_path, _full(SpecificCharacterSet="ISO_IR 100", patient_name="Müller^José"))
    reference = summarize(header)
    assert reference.patient.name == "Müller^José"
    for keyword in ("PatientName", "ImageType", "OtherPatientIDs", "Rows", "StudyDate"):
        header[keyword].value  # noqa: B018 (converts the raw element in place)
    assert not isinstance(header.get_item(0x00080008).value, bytes)
    converted = summarize(header)
    assert converted.instance.image_type == "ORIGINAL\\PRIMARY\\AXIAL"
    assert converted.patient.other_ids == "X1\\X2"
    assert converted.repairs == ()
    assert converted == reference
