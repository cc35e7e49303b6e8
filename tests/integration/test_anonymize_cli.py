"""``pacs anonymize`` on a file and on a folder, checked by reading the outputs back with pydicom
and with DCMTK's dcmdump; transfer syntaxes and pixel data survive, failures are reported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pydicom
import pytest
from pydicom.encaps import encapsulate
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGBaseline8Bit,
    generate_uid,
)

from pacs.imaging.deid import new_uid, pseudonym
from tests import dicomgen
from tests.conftest import dcmtk

pytestmark = [pytest.mark.filterwarnings("error::DeprecationWarning")]

SECRET = "cli-secret"


def anonymize(*args: str | Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pacs", "anonymize", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def dump(path: Path) -> str:
    """dcmdump, with its strict defaults (stop at the first parse error, load every value),
    must read the whole file (exit code 0) and report no error."""
    proc = dcmtk("dcmdump", str(path))
    assert "E: " not in proc.stderr, proc.stderr
    return proc.stdout


def test_a_file_is_deidentified(tmp_path: Path) -> None:
    ds = dicomgen.make_ct(InstitutionName="St Elsewhere", OperatorsName="Tech^Tina")
    ds.private_block(0x0009, "ACME 1.0", create=True).add_new(0x10, "LO", "Vendor secret")
    src = dicomgen.write(ds, tmp_path / "ct.dcm")
    out = tmp_path / "anon" / "ct.dcm"
    result = anonymize(src, out, "--secret", SECRET)
    assert result.returncode == 0, result.stderr
    assert "1 written, 0 skipped, 0 failed" in result.stdout

    back = pydicom.dcmread(out)
    assert back.PatientName == back.PatientID == pseudonym("PAT001", SECRET)
    assert back.SOPInstanceUID == new_uid(ds.SOPInstanceUID, SECRET)
    assert back.file_meta.MediaStorageSOPInstanceUID == back.SOPInstanceUID
    assert back.SOPClassUID == ds.SOPClassUID and back.PatientIdentityRemoved == "YES"
    assert back.PixelData == ds.PixelData
    assert not any(elem.tag.is_private for elem in back)
    raw = out.read_bytes()
    for secret in (b"Doe^John", b"PAT001", b"St Elsewhere", b"Tech^Tina", b"Vendor secret"):
        assert secret not in raw
    text = dump(out)
    assert "PatientIdentityRemoved" in text and "113100" in text


def _encapsulated() -> pydicom.Dataset:
    ds = dicomgen.make_ct(bits=8, rows=8, columns=8)
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.PixelData = encapsulate([b"\xff\xd8\xff\xdb" + bytes(range(60)) + b"\xff\xd9"])
    ds["PixelData"].VR, ds["PixelData"].is_undefined_length = "OB", True
    ds.PhotometricInterpretation = "YBR_FULL_422"
    ds.SamplesPerPixel, ds.PlanarConfiguration, ds.LossyImageCompression = 3, 0, "01"
    return ds


@pytest.mark.parametrize(
    "syntax", [ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian, JPEGBaseline8Bit]
)
def test_the_transfer_syntax_and_pixels_are_kept(tmp_path: Path, syntax: str) -> None:
    if syntax == JPEGBaseline8Bit:
        ds = _encapsulated()
    else:
        ds = dicomgen.make_ct()
        ds.file_meta.TransferSyntaxUID = syntax
    src = dicomgen.write(ds, tmp_path / "in.dcm")
    out = tmp_path / "out.dcm"
    assert anonymize(src, out).returncode == 0
    back, original = pydicom.dcmread(out), pydicom.dcmread(src)
    assert back.file_meta.TransferSyntaxUID == syntax
    assert back.PixelData == original.PixelData
    assert back.StudyInstanceUID != original.StudyInstanceUID
    dump(out)


def _tree(root: Path) -> tuple[str, list[Path]]:
    study = generate_uid()
    frame = generate_uid()
    paths = dicomgen.write_study(
        root / "a" / "b", series=2, per_series=2, study=study, FrameOfReferenceUID=frame
    )
    paths.append(dicomgen.write(dicomgen.make_ct(study=study), root / "c" / "IMG0001"))
    (root / "notes.txt").write_text("not DICOM")
    broken = dicomgen.write(dicomgen.make_ct(), root / "c" / "broken.dcm")
    broken.write_bytes(broken.read_bytes()[:1000])  # pixel data cut short
    return study, paths


def test_a_folder_is_mirrored_consistently(tmp_path: Path) -> None:
    src = tmp_path / "in"
    study, paths = _tree(src)
    result = anonymize(src, tmp_path / "out", "--secret", SECRET)
    assert result.returncode == 1, result.stderr  # the broken file
    assert "5 written, 1 skipped, 1 failed" in result.stdout
    assert "broken.dcm" in result.stderr and "truncated" in result.stderr
    assert "notes.txt" in result.stderr
    outputs = [tmp_path / "out" / p.relative_to(src) for p in paths]
    assert not (tmp_path / "out" / "notes.txt").exists()
    assert not (tmp_path / "out" / "c" / "broken.dcm").exists()

    read = [pydicom.dcmread(p) for p in outputs]
    assert {ds.StudyInstanceUID for ds in read} == {new_uid(study, SECRET)}
    assert len({ds.FrameOfReferenceUID for ds in read[:4]}) == 1
    assert len({ds.SeriesInstanceUID for ds in read}) == 3
    assert len({ds.SOPInstanceUID for ds in read}) == 5
    for path in outputs:
        dump(path)

    again = anonymize(src, tmp_path / "again", "--secret", SECRET)
    assert again.returncode == 1
    repeat = [pydicom.dcmread(tmp_path / "again" / p.relative_to(src)) for p in paths]
    assert [ds.SOPInstanceUID for ds in repeat] == [ds.SOPInstanceUID for ds in read]


def test_without_a_secret_each_run_is_consistent_but_unrelated(tmp_path: Path) -> None:
    study, _paths = _tree(tmp_path / "in")
    runs = []
    for name in ("one", "two"):
        assert anonymize(tmp_path / "in", tmp_path / name).returncode == 1
        files = [p for p in (tmp_path / name).rglob("*") if p.is_file()]
        runs.append({pydicom.dcmread(p).StudyInstanceUID for p in files})
    assert len(runs[0]) == len(runs[1]) == 1
    assert runs[0] != runs[1] and study not in runs[0]


def test_options_reach_the_profile(tmp_path: Path) -> None:
    ds = dicomgen.make_ct(StationName="CT_ROOM_3", DeviceSerialNumber="SN-42")
    ds.private_block(0x0009, "ACME 1.0", create=True).add_new(0x10, "LO", "Vendor value")
    src = dicomgen.write(ds, tmp_path / "ct.dcm")
    out = tmp_path / "out.dcm"
    flags = ("--keep-uids", "--keep-dates", "--keep-device", "--keep-private")
    assert anonymize(src, out, *flags).returncode == 0
    back = pydicom.dcmread(out)
    assert (back.SOPInstanceUID, back.StudyInstanceUID) == (ds.SOPInstanceUID, ds.StudyInstanceUID)
    assert (back.StudyDate, back.StationName, back.DeviceSerialNumber) == (
        "20240305",
        "CT_ROOM_3",
        "SN-42",
    )
    assert back.private_block(0x0009, "ACME 1.0")[0x10].value == "Vendor value"
    assert back.PatientName != ds.PatientName and "PatientBirthDate" in back
    codes = {i.CodeValue for i in back.DeidentificationMethodCodeSequence}
    assert codes == {"113100", "113110", "113106", "113109", "113111"}
    dump(out)


def test_usage_errors_and_help(tmp_path: Path) -> None:
    assert anonymize(tmp_path / "missing", tmp_path / "out").returncode == 2
    src = dicomgen.write(dicomgen.make_ct(), tmp_path / "ct.dcm")
    assert anonymize(src, src).returncode == 2  # never over the original
    assert pydicom.dcmread(src).PatientName == "Doe^John"
    text = anonymize("--help").stdout
    assert "random secret" in " ".join(text.split())
    (tmp_path / "dir").mkdir()
    assert anonymize(src, tmp_path / "dir").returncode == 0  # into an existing folder
    assert pydicom.dcmread(tmp_path / "dir" / "ct.dcm").PatientIdentityRemoved == "YES"
    assert (
        ExplicitVRLittleEndian
        == pydicom.dcmread(tmp_path / "dir" / "ct.dcm").file_meta["TransferSyntaxUID"].value
    )
