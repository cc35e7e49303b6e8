"""Names in Chinese, Japanese and Korean survive store → index, mislabelled bytes included."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pydicom import dcmread
from pydicom.dataelem import DataElement

from tests import dicomgen
from tests.conftest import Server, dcmtk

ESC_JIS, ESC_ASCII, ESC_KSC = b"\x1b$B", b"\x1b(B", b"\x1b$)C"


def _jis(text: str) -> bytes:
    return text.encode("iso2022_jp")  # ESC $ B ... ESC ( B, as PS3.5 Annex H shows


def _ksc(text: str) -> bytes:
    return ESC_KSC + text.encode("euc_kr")


JAPANESE = b"=".join(
    [b"Yamada^Tarou", _jis("山田") + b"^" + _jis("太郎"), _jis("やまだ") + b"^" + _jis("たろう")]
)
KOREAN = b"=".join(
    [b"Hong^Gildong", _ksc("洪") + b"^" + _ksc("吉洞"), _ksc("홍") + b"^" + _ksc("길동")]
)

# patient id -> (declared 0008,0005 or None, raw PatientName bytes, expected Unicode, repaired)
CASES: dict[str, tuple[str | None, bytes, str, bool]] = {
    "GB-UNDECLARED": (None, "张三".encode("gb18030"), "张三", True),
    "GBK-AS-LATIN1": ("ISO_IR 100", "王小明".encode("gbk"), "王小明", True),
    "GB-AS-UTF8": ("ISO_IR 192", "欧阳^娜娜".encode("gb18030"), "欧阳^娜娜", True),
    "GB-DECLARED": ("GB18030", "李四".encode("gb18030"), "李四", False),
    "UTF8": ("ISO_IR 192", "赵^六".encode(), "赵^六", False),
    "LATIN1": ("ISO_IR 100", "Müller^José".encode("latin-1"), "Müller^José", False),
    "JAPANESE": ("\\ISO 2022 IR 87", JAPANESE, "Yamada^Tarou=山田^太郎=やまだ^たろう", False),
    "KOREAN": ("\\ISO 2022 IR 149", KOREAN, "Hong^Gildong=洪^吉洞=홍^길동", False),
}


def _write_cases(folder: Path) -> dict[str, Path]:
    paths = {}
    for pid, (declared, raw, _, _) in CASES.items():
        ds = dicomgen.make_ct(patient_id=pid)
        if declared is not None:
            ds.SpecificCharacterSet = declared.split("\\") if "\\" in declared else declared
        ds.add(DataElement(0x00100010, "PN", raw))
        paths[pid] = dicomgen.write(ds, folder / f"{pid}.dcm")
    return paths


def _rows(server: Server) -> dict[str, tuple[str, str, int]]:
    with sqlite3.connect(server.home / "index.db") as conn:
        rows = conn.execute(
            "SELECT p.patient_id, p.name, p.name_norm, i.charset_repaired FROM patient p "
            "JOIN study s ON s.patient_pk = p.id JOIN series se ON se.study_pk = s.id "
            "JOIN instance i ON i.series_pk = se.id"
        ).fetchall()
    return {pid: (name, norm, repaired) for pid, name, norm, repaired in rows}


def test_names_survive_store_and_index(server: Server, tmp_path: Path) -> None:
    sources = _write_cases(tmp_path / "in")
    server.store_folder(tmp_path / "in")
    rows = _rows(server)
    for pid, (_, _raw, expected, repaired) in CASES.items():
        name, norm, was_repaired = rows[pid]
        assert name == expected, pid
        assert bool(was_repaired) is repaired, pid
        assert norm == expected.upper() if pid != "LATIN1" else norm == "MULLER^JOSE"
    # files keep the bytes exactly as received
    stored = {dcmread(p, stop_before_pixels=True).PatientID: p for p in server.files()}
    for pid, src in sources.items():
        assert dicomgen.dataset_bytes(stored[pid]) == dicomgen.dataset_bytes(src)
    assert "charset repair" in server.log_text
    with sqlite3.connect(server.home / "index.db") as conn:
        repairs = conn.execute("SELECT keyword, declared, used FROM charset_repair").fetchall()
    assert ("PatientName", "ISO_IR 100", "GB18030") in repairs
    assert len([r for r in repairs if r[0] == "PatientName"]) == 3


def test_rewrite_files_reencodes_repaired_text_as_utf8(make_server: object, tmp_path: Path) -> None:
    srv: Server = make_server(charset={"rewrite_files": True}).start()  # type: ignore[operator]
    ds = dicomgen.make_ct(patient_id="REWRITE")
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.add(DataElement(0x00100010, "PN", "张^三丰".encode("gbk")))
    ds.add(DataElement(0x00081030, "LO", "胸部平扫".encode("gbk")))
    src = dicomgen.write(ds, tmp_path / "gbk.dcm")
    dcmtk("storescu", "-aec", "PACS", "127.0.0.1", str(srv.dicom_port), str(src))
    [stored] = srv.files()
    back = dcmread(stored)
    assert back.SpecificCharacterSet == "ISO_IR 192"
    assert str(back.PatientName) == "张^三丰"
    assert back.StudyDescription == "胸部平扫"
    assert "张^三丰".encode() in stored.read_bytes()
    assert back.PixelData == ds.PixelData
    assert _rows(srv)["REWRITE"][0] == "张^三丰"
