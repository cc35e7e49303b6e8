"""The command line: import (files, folders, zip), reindex, and serve's lifecycle."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from pydicom import dcmread

from tests import dicomgen
from tests.conftest import Server


def _pacs(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pacs", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _count(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_import_files_folders_and_zip(make_server: object, tmp_path: Path) -> None:
    srv: Server = make_server()  # type: ignore[operator]
    folder = tmp_path / "src"
    plain = dicomgen.write_study(folder / "a" / "b", series=2, per_series=2)
    archive = tmp_path / "more.zip"
    zipped = dicomgen.write_study(tmp_path / "z", series=1, per_series=3, patient_id="ZIP")
    with zipfile.ZipFile(archive, "w") as zf:
        for path in zipped:
            zf.write(path, f"inner/{path.name}")
        zf.writestr("inner/readme.txt", "not dicom")
        zf.writestr("inner/DICOMDIR", b"\0" * 128 + b"DICM")
    (folder / "notes.txt").write_text("hello")
    broken = folder / "broken.dcm"
    broken.write_bytes(plain[0].read_bytes()[:400])  # a real preamble, then nothing usable
    single = dicomgen.write(dicomgen.make_ct(patient_id="ONE"), tmp_path / "one.dcm")

    proc = _pacs(srv.config, "import", str(folder), str(archive), str(single))
    out = proc.stdout
    assert proc.returncode == 1, proc.stderr  # one file failed: the exit code says so
    assert "imported: 8 stored, 0 duplicates, 1 failed, 3 skipped" in out, out
    assert "a DICOMDIR lists instances" in out
    assert "broken.dcm" in out
    assert len(srv.files()) == 8
    assert all(p.exists() for p in [*plain, single])  # imports copy; sources stay
    assert _count(
        srv.home / "index.db", "SELECT count(*), count(DISTINCT source) FROM instance"
    ) == [(8, 1)]

    again = _pacs(srv.config, "import", str(single))
    assert again.returncode == 0
    assert "imported: 0 stored, 1 duplicates, 0 failed" in again.stdout

    missing = _pacs(srv.config, "import", str(tmp_path / "nope"))
    assert missing.returncode == 2
    assert "no such file" in missing.stderr


def test_import_while_server_runs_then_query_counts(server: Server, tmp_path: Path) -> None:
    dicomgen.write_study(tmp_path / "in", series=1, per_series=4)
    proc = _pacs(server.config, "import", str(tmp_path / "in"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    server.store_folder(tmp_path / "in")  # duplicates of what was imported: kept once
    assert _count(server.home / "index.db", "SELECT num_instances FROM study") == [(4,)]


def test_reindex_rebuilds_everything(server: Server, tmp_path: Path) -> None:
    dicomgen.write_study(tmp_path / "in", series=2, per_series=3)
    server.store_folder(tmp_path / "in")
    server.stop()
    db = server.home / "index.db"
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM charset_repair")
        conn.execute("DELETE FROM instance WHERE id IN (SELECT id FROM instance LIMIT 2)")
    (server.storage / "garbage.dcm").write_bytes(b"\0" * 10)
    proc = _pacs(server.config, "reindex")
    assert "reindexed 7 files: 6 indexed, 0 duplicates, 1 unreadable" in proc.stdout, proc.stdout
    assert proc.returncode == 1
    assert _count(db, "SELECT count(*) FROM instance") == [(6,)]
    assert _count(db, "SELECT num_series, num_instances FROM study") == [(2, 6)]


def test_startup_sweep_indexes_orphans_and_reports_missing(server: Server, tmp_path: Path) -> None:
    dicomgen.write_study(tmp_path / "in", series=1, per_series=3)
    server.store_folder(tmp_path / "in")
    server.stop()
    db = server.home / "index.db"
    files = server.files()
    orphan = dcmread(files[0], stop_before_pixels=True).SOPInstanceUID
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM instance WHERE sop_uid = ?", (str(orphan),))
    files[1].unlink()
    (server.storage / ".spool" / "tmpleft.dcm").write_bytes(b"partial")
    server.start()
    for _ in range(100):
        if server.log_text.count("startup sweep:") == 2:  # the restart's sweep is done
            break
        time.sleep(0.1)
    rows = _count(db, f"SELECT count(*) FROM instance WHERE sop_uid = '{orphan}'")
    assert rows == [(1,)], server.log_text
    assert "1 indexed" in server.log_text and "1 rows without file" in server.log_text
    assert "index row without file" in server.log_text
    assert not (server.storage / ".spool" / "tmpleft.dcm").exists()


def test_sigterm_exits_zero_and_logs_json(server: Server) -> None:
    assert server.stop() == 0
    log = (server.home / "logs" / "pacs.jsonl").read_text(encoding="utf-8")
    assert '"logger": "pacs.app"' in log and "pacs stopped" in log
