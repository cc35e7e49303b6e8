"""Servers of the query/retrieve benchmark, each started fresh on free loopback ports in its own
folder and stopped by PID: ``pacs serve``, a DCMTK storescp C-MOVE destination, Orthanc."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from receivers import PACS, REPO, STORESCP, ReceiverError, echo, free_port, stop

ORTHANC = "/usr/sbin/Orthanc"
ENV = {**os.environ, "TCP_NODELAY": "1"}  # DCMTK (storescp, Orthanc) reads this


@dataclass
class Server:
    label: str
    ae_title: str
    port: int
    http_port: int | None
    workdir: Path
    storage: Path
    proc: subprocess.Popen[bytes]

    def log_tail(self, lines: int = 15) -> str:
        log = self.workdir / "server.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        return "\n".join("    | " + line for line in text.splitlines()[-lines:])

    def files(self) -> list[Path]:
        return [p for p in self.storage.rglob("*") if p.is_file() and ".spool" not in p.parts]


def _spawn(cmd: list[str], workdir: Path) -> subprocess.Popen[bytes]:
    with (workdir / "server.log").open("wb") as log:
        return subprocess.Popen(
            cmd, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, env=ENV, start_new_session=True
        )


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def _wait(server: Server, ready: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise ReceiverError(
                f"{server.label} exited with code {server.proc.returncode}\n{server.log_tail()}"
            )
        if ready():
            return
        time.sleep(0.2)
    raise ReceiverError(f"{server.label} not ready after {timeout:.0f} s\n{server.log_tail()}")


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(str(value))


def pacs_config(
    workdir: Path, sections: dict[str, dict[str, Any]], nodes: list[dict[str, Any]]
) -> Path:
    lines: list[str] = []
    for name, values in sections.items():
        lines += [f"[{name}]", *(f"{k} = {_toml(v)}" for k, v in values.items()), ""]
    for node in nodes:
        lines += ["[[nodes]]", *(f"{k} = {_toml(v)}" for k, v in node.items()), ""]
    config = workdir / "pacs.toml"
    config.write_text("\n".join(lines))
    return config


def _start_pacs(
    workdir: Path, db_url: str | None, workers: int | None, nodes: list[dict[str, Any]], cmd: str
) -> Server:
    port, http_port = free_port(), free_port()
    dicom: dict[str, Any] = {"ae_title": "PACS", "host": "127.0.0.1", "port": port}
    if workers is not None:
        dicom["workers"] = workers
    sections = {
        "dicom": dicom,
        "http": {"host": "127.0.0.1", "port": http_port},
        "storage": {"path": str(workdir / "storage"), "startup_sweep": False},
        "database": {"url": db_url or f"sqlite:///{workdir / 'index.db'}"},
        "logging": {"dir": str(workdir / "logs"), "level": "WARNING"},
    }
    config = pacs_config(workdir, sections, nodes)
    argv = shlex.split(cmd)
    if not shutil.which(argv[0]):
        raise ReceiverError(f"{argv[0]} not found (pip install -e . ?)")
    proc = _spawn([*argv, "serve", "--config", str(config)], workdir)
    return Server("pacs", "PACS", port, http_port, workdir, workdir / "storage", proc)


def _orthanc_config(workdir: Path, modalities: dict[str, list[Any]]) -> tuple[Path, int, int]:
    port, http_port = free_port(), free_port()
    config = {
        "Name": "bench-orthanc",
        "StorageDirectory": str(workdir / "storage"),
        "IndexDirectory": str(workdir / "index"),
        "HttpPort": http_port,
        "HttpServerEnabled": True,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "DicomServerEnabled": True,
        "DicomAet": "ORTHANC",
        "DicomPort": port,
        "DicomCheckCalledAet": False,
        "DicomAlwaysAllowEcho": True,
        "DicomAlwaysAllowStore": True,
        "DicomAlwaysAllowFind": True,
        "DicomAlwaysAllowMove": True,
        "DicomModalities": modalities,
        "StorageCompression": False,
        "SaveJobs": False,
        "Plugins": [],
        "LuaScripts": [],
    }
    path = workdir / "orthanc.json"
    path.write_text(json.dumps(config, indent=2))
    return path, port, http_port


def _start_orthanc(workdir: Path, modalities: dict[str, list[Any]]) -> Server:
    if not Path(ORTHANC).exists():
        raise ReceiverError(f"{ORTHANC} not found (apt-get install -y orthanc)")
    config, port, http_port = _orthanc_config(workdir, modalities)
    proc = _spawn([ORTHANC, str(config)], workdir)
    return Server("orthanc", "ORTHANC", port, http_port, workdir, workdir / "storage", proc)


def _start_storescp(workdir: Path) -> Server:
    port = free_port()
    storage = workdir / "storage"
    storage.mkdir()
    cmd = [STORESCP, "-aet", "DEST", "-pdu", "131072", "-dhl", "+xa", "-od", str(storage)]
    proc = _spawn([*cmd, str(port)], workdir)
    return Server("storescp", "DEST", port, None, workdir, storage, proc)


@contextmanager
def running(kind: str, base: Path, *, keep: bool = False, **kw: Any) -> Iterator[Server]:
    """Start a ``pacs``, ``orthanc`` or ``storescp`` server, wait until it answers, yield it;
    always stop it by PID and delete its folder. ``kw``: pacs (db_url, workers, nodes, cmd);
    orthanc (modalities)."""
    base.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=base))
    server: Server | None = None
    try:
        if kind == "pacs":
            server = _start_pacs(
                workdir,
                kw.get("db_url"),
                kw.get("workers"),
                kw.get("nodes", []),
                kw.get("cmd", PACS),
            )
            health = f"http://127.0.0.1:{server.http_port}/healthz"
            _wait(server, lambda: _http_ok(health) and echo(server.port, "PACS"), 60)
        elif kind == "orthanc":
            server = _start_orthanc(workdir, kw.get("modalities", {}))
            system = f"http://127.0.0.1:{server.http_port}/system"
            _wait(server, lambda: _http_ok(system) and echo(server.port, "ORTHANC"), 60)
        else:
            server = _start_storescp(workdir)
            _wait(server, lambda: echo(server.port, "DEST"), 20)
        yield server
    finally:
        if server is not None:
            stop(server.proc)
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


def orthanc_count(server: Server) -> int:
    """How many instances Orthanc holds (GET /statistics)."""
    url = f"http://127.0.0.1:{server.http_port}/statistics"
    with urllib.request.urlopen(url, timeout=10) as resp:
        return int(json.load(resp)["CountInstances"])


__all__ = ["REPO", "Server", "orthanc_count", "running"]
