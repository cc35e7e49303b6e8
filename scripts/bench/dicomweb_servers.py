"""The two DICOMweb servers, each started fresh on free loopback ports in its own folder:
``pacs serve`` (on a copy of a given SQLite index, or a new one) with the benchmark's account,
and Orthanc with Debian's DICOMweb plugin (orthanc-dicomweb) at /dicom-web. Loaded over DIMSE by
DCMTK storescu, as the Q/R bench loads them."""

from __future__ import annotations

import glob
import json
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import httpx
from qr_move import MoveStudy, store
from qr_servers import ORTHANC, Server, _http_ok, _orthanc_config, _spawn, _wait, orthanc_count
from qr_servers import running as running_server
from receivers import PACS, ReceiverError, echo, stop

USER, PASSWORD = "bench", "dicomweb-bench-1"  # a pacs account made for the run
PLUGINS = ("/usr/share/orthanc/plugins/libOrthancDicomWeb.so", "/usr/lib/orthanc/libOrthancDicom*")
TIMEOUT = httpx.Timeout(600.0, connect=10.0)


@dataclass
class Web:
    """A running server and its DICOMweb root URL."""

    server: Server
    root: str
    auth: tuple[str, str] | None = None
    db: Path | None = None  # pacs: its SQLite index
    version: str = ""

    @property
    def label(self) -> str:
        return self.server.label

    @property
    def pid(self) -> int:
        return self.server.proc.pid

    def client(self) -> httpx.Client:
        """A keep-alive client: one connection reused, as a viewer does."""
        return httpx.Client(auth=self.auth, timeout=TIMEOUT)

    def stored(self) -> list[Path]:
        """The DICOM files the server wrote (pacs: ``*.dcm``; Orthanc: its storage area)."""
        files = self.server.files()
        return sorted(p for p in files if self.db is None or p.suffix == ".dcm")

    def count(self) -> int:
        """Instances the server has indexed."""
        if self.db is None:
            return orthanc_count(self.server)
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as conn:
            return int(conn.execute("SELECT count(*) FROM instance").fetchone()[0])


def _add_account(db: Path, workdir: Path) -> None:
    config = workdir / "account.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{db}"\n')
    proc = subprocess.run(
        [PACS, "user", "add", USER, "--role", "admin", "--password-stdin", "--config", str(config)],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise ReceiverError(f"pacs user add failed: {(proc.stdout + proc.stderr).strip()}")


@contextmanager
def pacs_web(runs: Path, index: Path | None = None, *, keep: bool = False) -> Iterator[Web]:
    """``pacs serve`` on a copy of ``index`` (the server writes to it), or on a new index."""
    runs.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="pacs-index-", dir=runs))
    try:
        db = workdir / "index.db"
        if index is not None:
            shutil.copyfile(index, db)
        _add_account(db, workdir)
        with running_server("pacs", runs, db_url=f"sqlite:///{db}", keep=keep) as server:
            root = f"http://127.0.0.1:{server.http_port}/dicomweb"
            yield Web(server, root, (USER, PASSWORD), db, f"pacs {metadata.version('pacs')}")
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


def plugin() -> str:
    for pattern in PLUGINS:
        if found := sorted(glob.glob(pattern)):
            return found[0]
    raise ReceiverError("Orthanc's DICOMweb plugin not found (apt-get install orthanc-dicomweb)")


def _start_orthanc(workdir: Path) -> Server:
    if not Path(ORTHANC).exists():
        raise ReceiverError(f"{ORTHANC} not found (apt-get install -y orthanc)")
    path, port, http_port = _orthanc_config(workdir, {})
    config = json.loads(path.read_text())
    config["Plugins"] = [plugin()]
    config["DicomWeb"] = {  # names matched regardless of case, as pacs matches them
        "Enable": True, "Root": "/dicom-web/", "EnableWado": False, "QidoCaseSensitive": False
    }  # fmt: skip
    path.write_text(json.dumps(config, indent=2))
    proc = _spawn([ORTHANC, str(path)], workdir)
    return Server("orthanc", "ORTHANC", port, http_port, workdir, workdir / "storage", proc)


def _orthanc_version(server: Server) -> str:
    base = f"http://127.0.0.1:{server.http_port}"
    core = httpx.get(f"{base}/system").json().get("Version", "?")
    web = httpx.get(f"{base}/plugins/dicom-web").json().get("Version", "?")
    return f"Orthanc {core}, DICOMweb plugin {web}"


@contextmanager
def orthanc_web(runs: Path, *, keep: bool = False) -> Iterator[Web]:
    """Orthanc (stock settings, no compression) with the DICOMweb plugin at /dicom-web."""
    runs.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="orthanc-web-", dir=runs))
    server: Server | None = None
    try:
        server = _start_orthanc(workdir)
        web = Web(server, f"http://127.0.0.1:{server.http_port}/dicom-web")
        _wait(server, lambda: _http_ok(web.root + "/studies") and echo(server.port, "ORTHANC"), 60)
        web.version = _orthanc_version(server)
        yield web
    finally:
        if server is not None:
            stop(server.proc)
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


def load(web: Web, study: MoveStudy, timeout: float = 600) -> float:
    """Store the files below ``study.root`` with storescu and wait until all are indexed;
    returns the seconds it took."""
    start, expected = time.perf_counter(), web.count() + study.count
    store(web.server, study)
    deadline = time.monotonic() + timeout
    while (have := web.count()) < expected:
        if time.monotonic() > deadline:
            raise ReceiverError(f"{web.label} indexed {have}/{expected} after {timeout:.0f} s")
        time.sleep(0.2)
    return time.perf_counter() - start
