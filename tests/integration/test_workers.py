"""The DICOM edge spread over worker processes: hand-off, limits, crashes, shutdown."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from pynetdicom import AE
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

from tests import dicomgen
from tests.conftest import Server, dcmtk


def _workers(server: Server) -> list[int]:
    assert server.proc is not None
    out = subprocess.run(
        ["pgrep", "-P", str(server.proc.pid), "-f", "pacs worker"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return [int(pid) for pid in out.split()]


def _health(server: Server) -> dict[str, object]:
    url = f"http://127.0.0.1:{server.http_port}/healthz"
    with urllib.request.urlopen(url, timeout=5) as response:
        result: dict[str, object] = json.load(response)
        return result


@pytest.fixture
def pooled(make_server: object) -> Server:
    return make_server(dicom={"workers": 2}).start()  # type: ignore[operator, no-any-return]


def test_parallel_senders_spread_over_workers(pooled: Server, tmp_path: Path) -> None:
    assert len(_workers(pooled)) == 2
    folders = []
    for n in range(4):
        folders.append(tmp_path / f"in{n}")
        dicomgen.write_study(folders[-1], series=2, per_series=4, patient_id=f"W{n}")
    procs = [
        subprocess.Popen(
            ["storescu", "-aec", "PACS", "+sd", "+r", "127.0.0.1", str(pooled.dicom_port), str(f)]
        )
        for f in folders
    ]
    assert [p.wait(120) for p in procs] == [0, 0, 0, 0]
    assert len(pooled.files()) == 32
    with sqlite3.connect(pooled.home / "index.db") as conn:
        assert conn.execute("SELECT count(*), sum(file_size > 0) FROM instance").fetchone() == (
            32,
            32,
        )
        assert conn.execute("SELECT sum(num_instances) FROM patient").fetchone() == (32,)
    logs = [pooled.home / "logs" / f"pacs-worker{n}.jsonl" for n in (1, 2)]
    assert all(p.exists() for p in logs)
    assert _health(pooled)["dicom"] == {"port": pooled.dicom_port, "associations": 0}
    assert pooled.stop() == 0
    assert _workers(pooled) == []


def test_a_crashed_worker_is_restarted(pooled: Server, tmp_path: Path) -> None:
    first = _workers(pooled)
    os.kill(first[0], signal.SIGKILL)
    for _ in range(100):
        now = _workers(pooled)
        if len(now) == 2 and first[0] not in now and "dicom-worker" in pooled.log_text:
            break
        time.sleep(0.2)
    assert len(_workers(pooled)) == 2 and first[0] not in _workers(pooled)
    assert "exited with" in pooled.log_text
    src = dicomgen.write_study(tmp_path / "in", series=1, per_series=6)
    for _ in range(3):  # one association after another, each served
        pooled.store_folder(tmp_path / "in")
    assert len(pooled.files()) == len(src)


def test_limit_over_all_workers(make_server: object) -> None:
    srv: Server = make_server(dicom={"workers": 2, "max_associations": 1}).start()  # type: ignore[operator]
    holder = subprocess.Popen(
        [
            "storescu",
            "-aec",
            "PACS",
            "--repeat",
            "100000",
            "127.0.0.1",
            str(srv.dicom_port),
            str(dicomgen.write(dicomgen.make_ct(), srv.home / "x.dcm")),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(50):
            if _health(srv)["dicom"] == {"port": srv.dicom_port, "associations": 1}:
                break
            time.sleep(0.1)
        srv.expect_local_limit()
    finally:
        holder.kill()
        holder.wait()


def test_workers_stop_when_the_main_process_dies(pooled: Server) -> None:
    workers = _workers(pooled)
    pooled.kill()
    for _ in range(100):
        alive = [
            pid
            for pid in workers
            if Path(f"/proc/{pid}").exists()
            and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
        ]
        if not alive:
            break
        time.sleep(0.1)
    assert alive == []


def test_lone_association_served_locally_others_by_workers(pooled: Server) -> None:
    """One sender alone is served by the main process (no hop to the indexer); while it is
    open, further associations go to the worker processes."""
    logs = pooled.home / "logs"
    ae = AE(ae_title="LONEONE")
    ae.add_requested_context(Verification)
    held = ae.associate("127.0.0.1", pooled.dicom_port, ae_title="PACS")
    try:
        assert held.is_established
        dcmtk("echoscu", "-aet", "SECONDAE", "-aec", "PACS", "127.0.0.1", str(pooled.dicom_port))
    finally:
        held.release()
    main_log = (logs / "pacs.jsonl").read_text(encoding="utf-8")
    worker_logs = "".join(p.read_text(encoding="utf-8") for p in logs.glob("pacs-worker*.jsonl"))
    assert "established from LONEONE" in main_log
    assert "established from LONEONE" not in worker_logs
    assert "established from SECONDAE" in worker_logs
