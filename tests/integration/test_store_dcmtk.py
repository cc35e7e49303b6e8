"""DCMTK peers against a real server process: echo, store (folders, parallel, compressed)."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import zlib
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.uid import generate_uid

from tests import dicomgen
from tests.conftest import Server, dcmtk, send_file


def _index(server: Server, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(server.home / "index.db") as conn:
        return conn.execute(sql).fetchall()


def test_echoscu(server: Server) -> None:
    proc = dcmtk("echoscu", "-v", "-aec", "PACS", "127.0.0.1", str(server.dicom_port))
    assert "Received Echo Response (Success)" in proc.stderr + proc.stdout


@pytest.mark.parametrize("workers", [0, 2], ids=["in-process", "2-workers"])
def test_storescu_folder_recursive_is_stored_and_indexed(
    make_server: object, tmp_path: Path, workers: int
) -> None:
    server: Server = make_server(dicom={"workers": workers}).start()  # type: ignore[operator]
    study_a = dicomgen.write_study(tmp_path / "in" / "a", series=2, per_series=3)
    study_b = dicomgen.write_study(
        tmp_path / "in" / "deeper" / "b",
        series=1,
        per_series=4,
        patient_id="PAT002",
        patient_name="Roe^Jane",
    )
    server.store_folder(tmp_path / "in")
    files = server.files()
    assert len(files) == len(study_a) + len(study_b) == 10
    stored = {dcmread(p, stop_before_pixels=True).SOPInstanceUID: p for p in files}
    for src in study_a + study_b:
        ds = dcmread(src, stop_before_pixels=True)
        path = stored[ds.SOPInstanceUID]
        # layout: YYYY/MM/DD/study/series/sop.dcm, bytes exactly as sent
        assert path.relative_to(server.storage).parts[:3] == ("2024", "03", "05")
        assert path.parent.name == ds.SeriesInstanceUID
        assert dicomgen.dataset_bytes(path) == dicomgen.dataset_bytes(src)
    assert _index(server, "SELECT count(*) FROM instance") == [(10,)]
    assert sorted(_index(server, "SELECT num_series, num_instances, modalities FROM study")) == [
        (1, 4, "CT"),
        (2, 6, "CT"),
    ]
    patients = _index(
        server,
        "SELECT patient_id, name, name_norm, num_studies, num_instances "
        "FROM patient ORDER BY patient_id",
    )
    assert patients == [
        ("PAT001", "Doe^John", "DOE^JOHN", 1, 6),
        ("PAT002", "Roe^Jane", "ROE^JANE", 1, 4),
    ]
    rows = _index(server, "SELECT calling_ae, transfer_syntax, file_size > 0 FROM instance")
    assert set(rows) == {("STORESCU", "1.2.840.10008.1.2.1", 1)}


def test_parallel_storescu(server: Server, tmp_path: Path) -> None:
    folders = []
    for n in range(4):
        dicomgen.write_study(tmp_path / f"p{n}", series=2, per_series=5, patient_id=f"PP{n}")
        folders.append(tmp_path / f"p{n}")
    procs = [
        subprocess.Popen(
            [
                "storescu",
                "-aec",
                "PACS",
                "-aet",
                f"SENDER{n}",
                "+sd",
                "+r",
                "127.0.0.1",
                str(server.dicom_port),
                str(folder),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for n, folder in enumerate(folders)
    ]
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, out
    assert len(server.files()) == 40
    assert _index(server, "SELECT count(*), count(DISTINCT calling_ae) FROM instance") == [(40, 4)]
    assert _index(server, "SELECT sum(num_instances) FROM study") == [(40,)]


COMPRESSORS = [
    # (tool making the file, its options, storescu proposal flag, expected transfer syntax)
    ("dcmcjpeg", [], "-xs", "1.2.840.10008.1.2.4.70"),
    ("dcmcjpeg", ["+el"], "pynetdicom", "1.2.840.10008.1.2.4.57"),
    ("dcmcjpeg", ["+eb"], "-xy", "1.2.840.10008.1.2.4.50"),
    ("dcmcjpeg", ["+ee"], "-xx", "1.2.840.10008.1.2.4.51"),
    ("dcmcjpls", [], "-xt", "1.2.840.10008.1.2.4.80"),
    ("dcmcjpls", ["+en"], "-xu", "1.2.840.10008.1.2.4.81"),
    ("dcmcrle", [], "-xr", "1.2.840.10008.1.2.5"),
    ("dcmconv", ["+td"], "-xd", "1.2.840.10008.1.2.1.99"),
    ("dcmconv", ["+tb"], "-xb", "1.2.840.10008.1.2.2"),
    ("dcmconv", ["+ti"], "-xi", "1.2.840.10008.1.2"),
]


@pytest.mark.parametrize(
    ("tool", "options", "propose", "syntax"), COMPRESSORS, ids=[c[3] for c in COMPRESSORS]
)
def test_compressed_syntaxes_stored_as_received(
    server: Server, tmp_path: Path, tool: str, options: list[str], propose: str, syntax: str
) -> None:
    bits = 8 if syntax == "1.2.840.10008.1.2.4.50" else 16
    src = dicomgen.write(dicomgen.make_ct(bits=bits), tmp_path / "plain.dcm")
    packed = tmp_path / "packed.dcm"
    dcmtk(tool, *options, str(src), str(packed))
    assert str(dcmread(packed).file_meta.TransferSyntaxUID) == syntax
    if propose == "pynetdicom":  # storescu has no proposal flag for process 14 (.57)
        assert send_file(server.dicom_port, packed) == 0x0000
    else:
        dcmtk(
            "storescu",
            "-aec",
            "PACS",
            propose,
            "-R",
            "127.0.0.1",
            str(server.dicom_port),
            str(packed),
        )
    [stored] = server.files()
    assert str(dcmread(stored).file_meta.TransferSyntaxUID) == syntax
    received, sent = dicomgen.dataset_bytes(stored), dicomgen.dataset_bytes(packed)
    if syntax == "1.2.840.10008.1.2.1.99":  # the sender deflates again and pads to even length
        received, sent = zlib.decompress(received, -15), zlib.decompress(sent, -15)
    assert received == sent
    assert _index(server, "SELECT transfer_syntax FROM instance") == [(syntax,)]


ENCAPSULATED = [
    ("-xv", "1.2.840.10008.1.2.4.90"),
    ("-xw", "1.2.840.10008.1.2.4.91"),
    ("-xm", "1.2.840.10008.1.2.4.100"),
    ("-xn", "1.2.840.10008.1.2.4.102"),
    ("-x4", "1.2.840.10008.1.2.4.107"),
]


@pytest.mark.parametrize(("propose", "syntax"), ENCAPSULATED, ids=[e[1] for e in ENCAPSULATED])
def test_encapsulated_syntaxes_pass_through(
    server: Server, tmp_path: Path, propose: str, syntax: str
) -> None:
    """JPEG 2000 and video are never decoded on ingest: any encapsulated stream is kept as is."""
    from pydicom.encaps import encapsulate

    ds = dicomgen.make_ct(bits=8, SOPClassUID=dicomgen.VIDEO_ENDOSCOPIC)
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.TransferSyntaxUID = syntax
    ds.PixelData = encapsulate([b"\x00\x00\x01\xb3 opaque stream " * 7 + b"!"])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    src = dicomgen.write(ds, tmp_path / "enc.dcm")
    dcmtk("storescu", "-aec", "PACS", propose, "-R", "127.0.0.1", str(server.dicom_port), str(src))
    [stored] = server.files()
    assert dicomgen.dataset_bytes(stored) == dicomgen.dataset_bytes(src)
    assert _index(server, "SELECT transfer_syntax FROM instance") == [(syntax,)]


def test_calling_ae_allow_list(make_server: object, tmp_path: Path) -> None:
    srv: Server = make_server(dicom={"allowed_calling_aets": ["GOODAE"]}).start()  # type: ignore[operator]
    ok = dcmtk("echoscu", "-aet", "GOODAE", "-aec", "PACS", "127.0.0.1", str(srv.dicom_port))
    assert ok.returncode == 0
    bad = dcmtk(
        "echoscu",
        "-v",
        "-aet",
        "BADAE",
        "-aec",
        "PACS",
        "127.0.0.1",
        str(srv.dicom_port),
        check=False,
    )
    assert bad.returncode != 0
    text = bad.stdout + bad.stderr
    assert "Calling AE Title Not Recognized" in text, text


def test_duplicates_keep_then_reject(make_server: object, tmp_path: Path) -> None:
    src = dicomgen.write(dicomgen.make_ct(), tmp_path / "one.dcm")
    keep: Server = make_server().start()  # type: ignore[operator]
    for _ in range(2):
        dcmtk("storescu", "-aec", "PACS", "127.0.0.1", str(keep.dicom_port), str(src))
    assert len(keep.files()) == 1
    assert _index(keep, "SELECT num_instances FROM study") == [(1,)]
    keep.stop()
    reject: Server = make_server(storage={"duplicates": "reject"}).start()  # type: ignore[operator]
    dcmtk("storescu", "-aec", "PACS", "127.0.0.1", str(reject.dicom_port), str(src))
    again = dcmtk(
        "storescu", "-v", "-aec", "PACS", "127.0.0.1", str(reject.dicom_port), str(src), check=False
    )
    assert re.search(r"Status: 0x0?111\b", again.stdout + again.stderr), again.stderr
    assert len(reject.files()) == 1


def test_duplicates_replace_moves_to_new_path(make_server: object, tmp_path: Path) -> None:
    srv: Server = make_server(storage={"duplicates": "replace"}).start()  # type: ignore[operator]
    sop, study, series = generate_uid(), generate_uid(), generate_uid()
    first = dicomgen.write(
        dicomgen.make_ct(sop=sop, study=study, series=series, study_date="20200101"),
        tmp_path / "a.dcm",
    )
    second = dicomgen.write(
        dicomgen.make_ct(sop=sop, study=study, series=series, study_date="20210202", seed=9),
        tmp_path / "b.dcm",
    )
    for src in (first, second):
        dcmtk("storescu", "-aec", "PACS", "127.0.0.1", str(srv.dicom_port), str(src))
    [stored] = srv.files()
    assert stored.relative_to(srv.storage).parts[:3] == ("2021", "02", "02")
    assert dicomgen.dataset_bytes(stored) == dicomgen.dataset_bytes(second)
    assert _index(srv, "SELECT count(*) FROM instance") == [(1,)]
